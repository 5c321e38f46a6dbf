/**
 * Serves one function of the bundle (build/functions) under the functions framework in its own
 * process, as Cloud Functions runs it. For the local stack's API and the tests. Dev tooling, not deployed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BUILD_DIR } from '../../scripts/build.ts';
import { freePort } from './emulators.ts';
import { FRAMEWORK_MAIN, untilServing } from './framework-listen.ts';

export interface BuiltFunction {
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything it printed so far (its structured logs). */
  output(): string;
  stop(): Promise<void>;
}

export async function serveBuiltFunction(target: string, signature: 'http' | 'cloudevent', env: NodeJS.ProcessEnv, options: { port?: number; onOutput?: (chunk: string) => void; timeoutMs?: number } = {}): Promise<BuiltFunction> {
  const port = options.port ?? (await freePort());
  const child = spawn(process.execPath, [FRAMEWORK_MAIN, `--target=${target}`, `--signature-type=${signature}`, `--source=${BUILD_DIR}`, `--port=${port}`], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString();
    options.onOutput?.(chunk.toString());
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 3000))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  try {
    await untilServing(child, port, { target, output: () => output, env: { ...process.env, ...env }, timeoutMs: options.timeoutMs ?? 60_000 });
  } catch (error) {
    await stop();
    throw error;
  }
  return { url: `http://127.0.0.1:${port}`, port, child, output: () => output, stop };
}
