/**
 * `npm start -- --no-build` as a newcomer runs it, in a process group of its own so that a test can send
 * Ctrl-C (SIGINT) to all of it, npm included, and see what is left. Output of both streams is kept.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { ROOT } from '../../scripts/build.ts';

export interface LocalStackProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Everything the stack printed so far (stdout and stderr). */
  readonly output: string;
  /** Settles when the npm process exits. */
  exited: Promise<{ code: number | null; signal: string | null }>;
  /** Waits for "press Ctrl-C to stop"; fails with the output when it does not come or the stack exits. */
  ready(timeoutMs: number): Promise<void>;
  /** Ctrl-C to the whole group; resolves with how npm ended. */
  interrupt(): Promise<{ code: number | null; signal: string | null }>;
  /** Whether any process of the group is still alive. */
  groupAlive(): boolean;
  /** SIGKILL to the group if it still runs (for `after`, when a test failed before stopping it). */
  kill(): void;
}

export function startLocalStack(env: Record<string, string>): LocalStackProcess {
  const child = spawn('npm', ['start', '--', '--no-build'], {
    cwd: ROOT,
    env: { ...process.env, ...env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const pid = child.pid!;
  const groupAlive = (): boolean => {
    try {
      process.kill(-pid, 0);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      return false;
    }
  };
  return {
    child,
    get output() {
      return output;
    },
    exited,
    async ready(timeoutMs) {
      for (const deadline = Date.now() + timeoutMs; !/press Ctrl-C to stop/.test(output); ) {
        if (Date.now() > deadline || child.exitCode !== null) assert.fail(`the stack did not become ready:\n${output}`);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    },
    async interrupt() {
      process.kill(-pid, 'SIGINT');
      return exited;
    },
    groupAlive,
    kill() {
      // A stopped stack (exit code or signal) has no group left.
      if (child.exitCode !== null || child.signalCode !== null) return;
      try {
        process.kill(-pid, 'SIGKILL');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error; // already gone
      }
    },
  };
}
