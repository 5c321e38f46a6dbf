/**
 * Runs one function of the deployable (build/functions) in its own process under the functions
 * framework, as Cloud Functions gen2 runs it: `--source=build/functions --target=<name>` on a port of
 * 127.0.0.1. Shared by the local stack and the tests, so both run exactly what Terraform zips.
 * Dev tooling, not deployed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { BUILD_DIR } from '../../scripts/build.ts';
import { freePort } from './emulators.ts';

/** The framework's CLI (its `bin`) sits beside its main module; the package does not export it. */
export const FRAMEWORK_MAIN = join(dirname(createRequire(import.meta.url).resolve('@google-cloud/functions-framework')), 'main.js');

export type FunctionName = 'dispatchEvent' | 'retryWorker' | 'validateWebhook' | 'repairDeliveries' | 'deadLetterNotify';

/** How each function is deployed (terraform/functions.tf): Pub/Sub and Firestore triggers are CloudEvents. */
export const SIGNATURE_TYPES: Record<FunctionName, 'cloudevent' | 'http'> = {
  dispatchEvent: 'cloudevent',
  retryWorker: 'http',
  validateWebhook: 'cloudevent',
  repairDeliveries: 'http',
  deadLetterNotify: 'cloudevent',
};

export interface FunctionProcessOptions {
  target: FunctionName;
  /** Environment of the process: added to this process's own; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  port?: number;
  source?: string;
  /** Every line the process writes, stdout and stderr, as it comes. */
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
  startTimeoutMs?: number;
}

export interface FunctionProcess {
  target: FunctionName;
  port: number;
  /** http://127.0.0.1:PORT/ */
  url: string;
  pid(): number | undefined;
  /** Everything the current and earlier processes of this function wrote (the last 200 kB). */
  output(): string;
  running(): boolean;
  /** Sends the signal (SIGKILL by default: an instance that dies) and waits for the exit. */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Starts the function again on the same port, with the same environment. */
  restart(): Promise<void>;
  /** SIGTERM, then SIGKILL after 5 s. */
  stop(): Promise<void>;
}

function environment(overrides: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(() => resolve(true)));
    socket.once('error', () => resolve(false));
  });
}

export async function startFunctionProcess(options: FunctionProcessOptions): Promise<FunctionProcess> {
  const port = options.port ?? (await freePort());
  const env = environment({ METADATA_SERVER_DETECTION: 'none', ...options.env });
  const args = [FRAMEWORK_MAIN, `--target=${options.target}`, `--signature-type=${SIGNATURE_TYPES[options.target]}`, `--source=${options.source ?? BUILD_DIR}`, `--port=${port}`];
  let output = '';
  let child: ChildProcess | undefined;

  const spawnOnce = async () => {
    const current = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = current;
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      current[stream]!.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        output = (output + text).slice(-200_000);
        const lines = (partial + text).split('\n');
        partial = lines.pop()!;
        for (const line of lines) if (line) options.onLine?.(line, stream);
      });
      current[stream]!.on('end', () => partial && options.onLine?.(partial, stream));
    }
    const deadline = Date.now() + (options.startTimeoutMs ?? 60_000);
    // A TCP connect, not an HTTP probe: a request would invoke the function.
    while (!(await portOpen(port))) {
      if (current.exitCode !== null || current.signalCode !== null) throw new Error(`${options.target} exited (${current.exitCode ?? current.signalCode}) before listening on ${port}:\n${output}`);
      if (Date.now() > deadline) {
        current.kill('SIGKILL');
        throw new Error(`${options.target} did not listen on ${port} within ${options.startTimeoutMs ?? 60_000} ms:\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  const running = () => !!child && child.exitCode === null && child.signalCode === null;
  const kill = async (signal: NodeJS.Signals = 'SIGKILL') => {
    const current = child;
    if (!current || !running()) return;
    const exited = new Promise((resolve) => current.once('exit', resolve));
    current.kill(signal);
    await exited;
  };

  await spawnOnce();
  return {
    target: options.target,
    port,
    url: `http://127.0.0.1:${port}/`,
    pid: () => child?.pid,
    output: () => output,
    running,
    kill,
    async restart() {
      await kill();
      await spawnOnce();
    },
    async stop() {
      const current = child;
      if (!current || !running()) return;
      const exited = new Promise((resolve) => current.once('exit', resolve));
      current.kill('SIGTERM');
      const timer = setTimeout(() => current.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
