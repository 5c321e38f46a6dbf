/**
 * `npm run test:node24`, and a step of `npm test`: the unit suite on Node 24, the other runtime
 * Terraform's `function_runtime` accepts. The binary is the `node24` devDependency (`npm:node@24.x`):
 * npm installs it at node_modules/node24/bin/node. It is run by that path, never through
 * node_modules/.bin/node, which stays Node 22 (npm links bins in path order and keeps the first
 * `node`, the one of node_modules/node). Unit tests only: they import the sources and need no emulator.
 */
import { spawn } from 'node:child_process';
import { existsSync, globSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ROOT } from './build.ts';

export const NODE24_BINARY = join(ROOT, 'node_modules', 'node24', 'bin', 'node');

/** Runs the unit suite under Node 24; resolves to its exit code (1 with a message when Node 24 is missing). */
export async function runUnitSuiteOnNode24(stdio: 'inherit' | 'pipe' = 'inherit'): Promise<{ code: number; output: string }> {
  if (!existsSync(NODE24_BINARY)) {
    return { code: 1, output: `Node 24 is missing at ${NODE24_BINARY}: run npm ci (the node24 devDependency installs it)\n` };
  }
  const files = globSync('test/unit/*.test.ts', { cwd: ROOT }).sort();
  const child = spawn(NODE24_BINARY, ['--test', '--test-reporter=spec', ...files], { cwd: ROOT, stdio: ['ignore', stdio, stdio], env: { ...process.env, METADATA_SERVER_DETECTION: 'none' } });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
  const code = await new Promise<number>((resolve) => {
    child.once('error', (error) => {
      output += `could not run ${NODE24_BINARY}: ${error.message}\n`;
      resolve(1);
    });
    child.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
  return { code, output };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { code, output } = await runUnitSuiteOnNode24('inherit');
  if (output) process.stderr.write(output);
  process.exitCode = code;
}
