/**
 * Starts Google's real Pub/Sub and Firestore emulators (`gcloud beta emulators ...`) on free ports, for
 * the local stack and the tests. Dev tooling, not deployed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './free-port.ts';

export type EmulatorName = 'pubsub' | 'firestore';

export interface RunningEmulator {
  name: EmulatorName;
  /** host:port, the value of PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST. */
  host: string;
  stop(): Promise<void>;
}

export const EMULATOR_ENV: Record<EmulatorName, 'PUBSUB_EMULATOR_HOST' | 'FIRESTORE_EMULATOR_HOST'> = {
  pubsub: 'PUBSUB_EMULATOR_HOST',
  firestore: 'FIRESTORE_EMULATOR_HOST',
};

export class EmulatorMissingError extends Error {
  override name = 'EmulatorMissingError';
}

export { freePort };

/** Says, by name, what is missing when gcloud or Java cannot run an emulator. */
export function checkEmulatorPrerequisites(): string[] {
  const problems: string[] = [];
  const gcloud = spawnSync('gcloud', ['--version'], { encoding: 'utf8' });
  if (gcloud.error || gcloud.status !== 0) {
    problems.push('gcloud is not installed: install the Google Cloud SDK with the "beta", "pubsub-emulator" and "cloud-firestore-emulator" components');
    return problems;
  }
  const java = spawnSync('java', ['-version'], { encoding: 'utf8' });
  if (java.error || java.status !== 0) problems.push('java is not installed: the Pub/Sub and Firestore emulators need Java 17 or newer');
  for (const [name, component] of [['pubsub', 'pubsub-emulator'], ['firestore', 'cloud-firestore-emulator']] as const) {
    if (!/beta/.test(gcloud.stdout)) problems.push(`the gcloud "beta" component is missing (needed by the ${name} emulator)`);
    else if (!gcloud.stdout.includes(component)) problems.push(`the gcloud component "${component}" is missing: gcloud components install ${component}`);
  }
  return [...new Set(problems)];
}

async function waitUntilReady(name: EmulatorName, host: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the ${name} emulator exited with code ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`http://${host}/`, { signal: AbortSignal.timeout(1000) });
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`the ${name} emulator did not answer on ${host} within ${timeoutMs / 1000} s:\n${output()}`);
}

export async function startEmulator(name: EmulatorName, options: { projectId: string; timeoutMs?: number }): Promise<RunningEmulator> {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), `hookshape-${name}-`));
  const args = ['beta', 'emulators', name, 'start', `--host-port=${host}`, `--project=${options.projectId}`];
  if (name === 'pubsub') args.push(`--data-dir=${dataDir}`);
  let log = '';
  // detached: gcloud starts java as a child; killing the process group stops both.
  const child = spawn('gcloud', args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLOUDSDK_CORE_DISABLE_PROMPTS: '1' },
  });
  const keep = (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (error) => reject(new EmulatorMissingError(`cannot start the ${name} emulator: ${error.message}`))),
  );
  const stop = async () => {
    if (child.exitCode === null && child.pid) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      try {
        process.kill(-child.pid, 'SIGTERM');
      } catch {
        // already gone
      }
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await Promise.race([waitUntilReady(name, host, child, () => log, options.timeoutMs ?? 90_000), spawnError]);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name, host, stop };
}

/** Uses the emulators named by PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST, or starts the others. */
export async function ensureEmulators(projectId: string, env: NodeJS.ProcessEnv = process.env): Promise<{ hosts: Record<EmulatorName, string>; stop: () => Promise<void> }> {
  const names: EmulatorName[] = ['pubsub', 'firestore'];
  const missing = names.filter((name) => !env[EMULATOR_ENV[name]]);
  if (missing.length > 0) {
    const problems = checkEmulatorPrerequisites();
    if (problems.length > 0) throw new EmulatorMissingError(`cannot start the emulators (${missing.join(', ')}):\n  - ${problems.join('\n  - ')}`);
  }
  const started = await Promise.allSettled(missing.map((name) => startEmulator(name, { projectId })));
  const running = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stop = async () => void (await Promise.all(running.map((emulator) => emulator.stop())));
  const failure = started.find((result) => result.status === 'rejected');
  if (failure) {
    await stop();
    throw (failure as PromiseRejectedResult).reason;
  }
  const hosts = Object.fromEntries(names.map((name) => [name, env[EMULATOR_ENV[name]] ?? running.find((emulator) => emulator.name === name)!.host])) as Record<EmulatorName, string>;
  return { hosts, stop };
}
