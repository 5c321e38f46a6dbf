/**
 * Runs a function directory under the functions framework in a child process, as Cloud Functions
 * (gen2) runs it, and sends it Pub/Sub push requests, which the framework turns into CloudEvents.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { freePort } from '../../functions/dev/emulators.ts';
import { FRAMEWORK_MAIN } from '../../functions/dev/framework-listen.ts';
import type { EventMessage } from '../../functions/src/events/event-message.ts';
import { HEAP_REPORT_IMPORT, type InstanceMemory, type InstanceOutcome } from './instance-memory.ts';

export const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const ROOT = join(BENCH_DIR, '..');
export const OUT = join(BENCH_DIR, '.out');
export const BUILD_DIR = join(ROOT, 'build', 'functions');
export const BARE_DIR = join(BENCH_DIR, 'cold-start', 'bare-function');

/** USER_HZ: 100 on every Linux this runs on. */
const CLOCK_TICKS = 100;

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export { freePort };

export interface FunctionProcess {
  child: ChildProcess;
  port: number;
  /** performance.now() just before the spawn. */
  startedAt: number;
  stderr(): string;
  waitForPort(timeoutMs?: number): Promise<void>;
  /** Posts the event as a Pub/Sub push; resolves with the HTTP status once the function answered. */
  push(event: EventMessage, agent?: Agent | false): Promise<number>;
  /** Resident set size now and at most so far, from /proc (Linux), in bytes. */
  memory(): { rss: number; hwm: number };
  /** CPU time used so far (user + system, all threads), ms, from /proc (Linux). */
  cpuMs(): number;
  /** Whether the process has exited (on its own, e.g. OOM-killed, or stopped). */
  exited(): boolean;
  stop(): Promise<void>;
  /** With options.instance, once stopped: what the instance's cgroup saw (OOM kills, peak charge). */
  instanceOutcome(): InstanceOutcome | null;
}

export interface StartOptions {
  preload?: string;
  nodeFlags?: string[];
  /** Run as an instance with this memory (its own cgroup, or V8 flags): see instance-memory.ts. */
  instance?: InstanceMemory;
  /** Write how V8 sized the heap to this file (read it with readHeapReport). */
  heapReport?: string;
  /** The function to serve and its signature (default: dispatchEvent, cloudevent). */
  target?: string;
  signature?: 'cloudevent' | 'http';
}

export async function startFunction(source: string, env: NodeJS.ProcessEnv, options: StartOptions = {}): Promise<FunctionProcess> {
  const port = await freePort();
  const args = [...(options.nodeFlags ?? []), ...(options.preload ? ['--import', pathToFileURL(options.preload).href] : []), ...(options.heapReport ? ['--import', HEAP_REPORT_IMPORT] : []), FRAMEWORK_MAIN, `--target=${options.target ?? 'dispatchEvent'}`, `--signature-type=${options.signature ?? 'cloudevent'}`, `--source=${source}`, `--port=${port}`];
  const projectId = env.GOOGLE_CLOUD_PROJECT ?? 'bench';
  const instance = options.instance?.launch(args);
  let outcome: InstanceOutcome | null = null;
  const startedAt = performance.now();
  const child = spawn(instance?.file ?? process.execPath, instance?.args ?? args, { env: options.heapReport ? { ...env, BENCH_HEAP_OUT: options.heapReport } : env, stdio: ['ignore', 'ignore', 'pipe'] });
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
  return {
    child,
    port,
    startedAt,
    stderr: () => stderr,
    async waitForPort(timeoutMs = 30_000) {
      const deadline = performance.now() + timeoutMs;
      while (performance.now() < deadline) {
        if (exited()) throw new Error(`the function exited with ${child.exitCode !== null ? `code ${child.exitCode}` : child.signalCode} before listening:\n${stderr}`);
        const open = await new Promise<boolean>((resolve) => {
          const socket = connect(port, '127.0.0.1', () => socket.end(() => resolve(true)));
          socket.once('error', () => resolve(false));
        });
        if (open) return;
        await sleep(2);
      }
      throw new Error(`the function did not listen on ${port} within ${timeoutMs} ms:\n${stderr}`);
    },
    push(event, agent = false) {
      const body = JSON.stringify({
        message: {
          data: Buffer.from(JSON.stringify(event)).toString('base64'),
          attributes: { type: event.type, accountId: event.accountId },
          messageId: `msg_${event.id}`,
          publishTime: new Date().toISOString(),
        },
        subscription: `projects/${projectId}/subscriptions/hookshape-dispatch`,
      });
      const send = (retried: boolean): Promise<number> =>
        new Promise((resolve, reject) => {
          const req = request(
            { host: '127.0.0.1', port, path: `/projects/${projectId}/topics/hookshape-events`, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
            (res) => {
              res.resume();
              res.on('end', () => resolve(res.statusCode ?? 0));
            },
          );
          // A kept-alive connection the server closed as this request went out (Node's documented race,
          // see request.reusedSocket): sent again once on a new connection, as Pub/Sub would retry a push.
          req.on('error', (error: NodeJS.ErrnoException) => (!retried && req.reusedSocket && error.code === 'ECONNRESET' ? resolve(send(true)) : reject(error)));
          req.end(body);
        });
      return send(false);
    },
    memory() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      const kb = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? Number.NaN) * 1024;
      return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
    },
    cpuMs() {
      // Fields 14 and 15 of /proc/PID/stat (after the parenthesised command name), in clock ticks.
      const stat = readFileSync(`/proc/${child.pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
    },
    exited,
    async stop() {
      if (!exited()) {
        const exit = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM'); // graceful: Node writes its compile cache on exit
        await Promise.race([exit, sleep(5000)]);
        if (child.exitCode === null) child.kill('SIGKILL');
        // A cgroup can only be removed once its process is gone.
        if (instance) await Promise.race([exit, sleep(5000)]);
      }
      if (instance) outcome = await instance.finish();
    },
    instanceOutcome: () => outcome,
  };
}

/** The environment of a function process: the production variables, pointed at the emulator and loopback. */
export function functionEnv(projectId: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const { NODE_COMPILE_CACHE: _cache, NODE_OPTIONS: _options, ...base } = process.env;
  return {
    ...base,
    GOOGLE_CLOUD_PROJECT: projectId,
    ALLOW_LOOPBACK_DESTINATIONS: 'true',
    METADATA_SERVER_DETECTION: 'none',
    NODE_ENV: 'production',
    ...extra,
  };
}
