/**
 * Each section runs in its own Node process (a fresh heap, nothing left warm by another section). The
 * parent passes its options as JSON in BENCH_OPTIONS and reads the result the child writes to
 * BENCH_OUT; the child's own output goes to the parent's stderr as progress.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function sectionOptions<T>(): T {
  return JSON.parse(process.env.BENCH_OPTIONS ?? '{}') as T;
}

export function writeResult(result: unknown): void {
  const out = process.env.BENCH_OUT;
  if (out) writeFileSync(out, JSON.stringify(result));
  else console.log(JSON.stringify(result, null, 2));
}

/** Progress of a section, on stderr (stdout stays clean for --json). */
export const progress = (text: string): void => void process.stderr.write(`  ${text}\n`);

export async function runSection<T>(script: string, options: unknown, env: NodeJS.ProcessEnv = {}): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'hookshape-bench-'));
  const out = join(dir, 'result.json');
  try {
    // The child's stdout goes to our stderr: with --json, stdout carries only the JSON object.
    const child = spawn(process.execPath, [script], {
      stdio: ['ignore', process.stderr, 'inherit'],
      env: { ...process.env, METADATA_SERVER_DETECTION: 'none', ...env, BENCH_OPTIONS: JSON.stringify(options), BENCH_OUT: out },
    });
    const code = await new Promise<number>((resolve) => child.once('exit', (status, signal) => resolve(status ?? (signal ? 1 : 0))));
    if (code !== 0) throw new Error(`${script} exited with code ${code}`);
    return JSON.parse(readFileSync(out, 'utf8')) as T;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
