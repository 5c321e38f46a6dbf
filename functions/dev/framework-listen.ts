/**
 * Starting a function under the functions framework, shared by function-process.ts and built-function.ts.
 * Dev tooling, not deployed.
 */
import { type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';

/** The framework's CLI (its `bin`) sits beside its main module; the package does not export it. */
export const FRAMEWORK_MAIN = join(dirname(createRequire(import.meta.url).resolve('@google-cloud/functions-framework')), 'main.js');

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(() => resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

/**
 * Waits until the framework in `child` serves on `port`: the port takes connections (a TCP connect, not an
 * HTTP probe, which would invoke the function) and, unless NODE_ENV is production, its banner
 * (`URL: http://localhost:PORT/`) has reached `output()`. The port opens before the framework's listen
 * callback prints that banner, so waiting for the port alone let a stack say "ready" before the last
 * function's banner. Throws with the output when the child exits or the time runs out.
 */
export async function untilServing(child: ChildProcess, port: number, options: { target: string; output: () => string; env: NodeJS.ProcessEnv; timeoutMs: number }): Promise<void> {
  const banner = options.env.NODE_ENV === 'production' ? undefined : `URL: http://localhost:${port}/`;
  const deadline = Date.now() + options.timeoutMs;
  let open = false;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${options.target} exited (${child.exitCode ?? child.signalCode}) before listening on ${port}:\n${options.output()}`);
    open ||= await portOpen(port);
    if (open && (!banner || options.output().includes(banner))) return;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`${options.target} did not listen on ${port} within ${options.timeoutMs} ms:\n${options.output()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
