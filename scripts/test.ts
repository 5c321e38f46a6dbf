/**
 * `npm test`: type-checks, builds the functions (the integration tests run build/functions, not the
 * sources, so every run tests a fresh bundle; the build fails when a lazy chunk lost exports) and the
 * test kit (build/test-kit: the production helpers the integration tests use themselves, bundled the
 * same way; test/support/kit.ts), starts the real Pub/Sub and Firestore emulators once
 * (or uses those named by PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST), runs every test file against
 * them with node:test, and stops them. Extra arguments are passed to node --test (e.g. a file).
 * A full run (no arguments) also runs the unit suite on Node 24 (scripts/test-node24.ts) while the
 * emulators start: the deployment may run on nodejs22 or nodejs24 (Terraform's function_runtime).
 */
import { spawn, spawnSync } from 'node:child_process';
import { globSync } from 'node:fs';
import { join } from 'node:path';
import { ensureEmulators, EmulatorMissingError } from '../functions/dev/emulators.ts';
import { build, buildTestKit, ROOT } from './build.ts';
import { runUnitSuiteOnNode24 } from './test-node24.ts';

function banner(text: string): void {
  const line = '!'.repeat(78);
  console.error(`\n${line}\n${text}\n${line}\n`);
}

async function main(): Promise<number> {
  const typecheck = (project: string) => spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, project), '--noEmit'], { stdio: 'inherit' }).status;
  // The functions (Node) and the portal (browsers) are checked with their own libraries.
  if (typecheck('tsconfig.json') !== 0 || typecheck('portal/tsconfig.json') !== 0) {
    console.error('type-check failed');
    return 1;
  }
  try {
    await build();
    await buildTestKit();
  } catch (error) {
    banner(`THE BUILD FAILED — nothing is tested against a broken bundle.\n${(error as Error).message}`);
    return 1;
  }

  const requested = process.argv.slice(2);
  const files = requested.length > 0 ? requested : globSync('test/**/*.test.ts', { cwd: ROOT }).sort();
  console.log(`starting the Pub/Sub and Firestore emulators (about 20 s)...`);
  // The unit suite on Node 24 runs meanwhile (its output is held so it does not interleave).
  const node24 = requested.length > 0 ? undefined : runUnitSuiteOnNode24('pipe');
  if (node24) console.log('running the unit suite on Node 24 meanwhile...');
  let emulators: Awaited<ReturnType<typeof ensureEmulators>>;
  try {
    emulators = await ensureEmulators('hookshape-test');
  } catch (error) {
    if (error instanceof EmulatorMissingError) {
      banner(`EMULATORS MISSING — the integration tests cannot run on this machine.\n${error.message}`);
    } else {
      banner(`The emulators did not start: ${(error as Error).message}`);
    }
    return 1;
  }
  console.log(`Pub/Sub emulator ${emulators.hosts.pubsub}, Firestore emulator ${emulators.hosts.firestore}`);
  let node24Failed = false;
  if (node24) {
    const { code, output } = await node24;
    node24Failed = code !== 0;
    if (node24Failed) banner(`THE UNIT SUITE FAILED ON NODE 24 (exit ${code}); the other tests run anyway.\n${output.slice(-20_000)}`);
    else console.log(`unit suite on Node 24: passed (${/ℹ pass (\d+)/.exec(output)?.[1] ?? '?'} tests)`);
  }
  const stop = () => void emulators.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=3', ...files], {
      cwd: ROOT,
      stdio: 'inherit',
      env: {
        ...process.env,
        PUBSUB_EMULATOR_HOST: emulators.hosts.pubsub,
        FIRESTORE_EMULATOR_HOST: emulators.hosts.firestore,
        // Otherwise Google's clients probe for a metadata server first and start several times slower.
        METADATA_SERVER_DETECTION: 'none',
      },
    });
    const code = await new Promise<number>((resolve) => child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0))));
    if (node24Failed) banner('THE UNIT SUITE FAILED ON NODE 24 (its output is above, before the other tests).');
    return code !== 0 ? code : node24Failed ? 1 : 0;
  } finally {
    await emulators.stop();
  }
}

process.exitCode = await main();
