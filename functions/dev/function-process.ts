/**
 * Runs one function of the deployable (build/functions) in its own process under the functions
 * framework, as Cloud Functions gen2 runs it: `--source=build/functions --target=<name>` on a port of
 * 127.0.0.1. Shared by the local stack and the tests, so both run exactly what Terraform zips.
 * Dev tooling, not deployed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { BUILD_DIR } from '../../scripts/build.ts';
import { freePort } from './emulators.ts';
import { FRAMEWORK_MAIN, untilServing } from './framework-listen.ts';

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

export async function startFunctionProcess(options: FunctionProcessOptions): Promise<FunctionProcess> {
  const port = options.port ?? (await freePort());
  const env = environment({ METADATA_SERVER_DETECTION: 'none', ...options.env });
  const args = [FRAMEWORK_MAIN, `--target=${options.target}`, `--signature-type=${SIGNATURE_TYPES[options.target]}`, `--source=${options.source ?? BUILD_DIR}`, `--port=${port}`];
  let output = '';
  let child: ChildProcess | undefined;

  const spawnOnce = async () => {
    const current = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child = current;
    // This process's output until it serves: after a restart, the banner of the one before is in `output`.
    let startup: string | undefined = '';
    for (const stream of ['stdout', 'stderr'] as const) {
      let partial = '';
      current[stream]!.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        output = (output + text).slice(-200_000);
        if (startup !== undefined) startup += text;
        const lines = (partial + text).split('\n');
        partial = lines.pop()!;
        for (const line of lines) if (line) options.onLine?.(line, stream);
      });
      current[stream]!.on('end', () => partial && options.onLine?.(partial, stream));
    }
    try {
      await untilServing(current, port, { target: options.target, output: () => startup ?? '', env, timeoutMs: options.startTimeoutMs ?? 60_000 });
    } finally {
      startup = undefined;
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
