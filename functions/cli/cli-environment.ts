/**
 * Where the CLI works: the emulators named by FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST /
 * CLOUD_TASKS_EMULATOR_HOST, else those of the running local stack (.local/stack.json, written by
 * `npm start`), else Google Cloud with the application-default credentials. Clients are created on
 * first use, after a quick probe of an emulator, so a stopped stack is reported at once (exit 3)
 * instead of after the client libraries' long retries.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { GrpcStatus } from '../src/core/failures.ts';
import type { Firestore } from '@google-cloud/firestore';
import type { PubSub } from '@google-cloud/pubsub';
import { STACK_FILE } from '../dev/local-paths.ts';
import { DEFAULT_PROJECT_ID, loadConfig, type RuntimeConfig } from '../src/config/runtime-config.ts';
import { CloudTasksRetryScheduler } from '../src/tasks/cloud-tasks-retry-scheduler.ts';
import { CliError, EXIT, usageError } from './cli-output.ts';

/** What `npm start` writes to .local/stack.json while it runs. */
export interface LocalStackFile {
  projectId: string;
  topic?: string;
  pubsub?: string;
  firestore?: string;
  tasks?: string;
  tasksLocation?: string;
  tasksQueue?: string;
  retryWorkerUrl?: string;
  secretsFile?: string;
}

export interface CliEnvironment {
  projectId: string;
  /** For messages: "the emulators of the local stack", "Google Cloud project p"... */
  where: string;
  config: RuntimeConfig;
  /** The local stack's secrets file, when there is one (preview of a stored webhook shows real shapes). */
  secretsFile: string | undefined;
  firestore(): Promise<Firestore>;
  pubsub(): Promise<PubSub>;
  scheduler(): Promise<CloudTasksRetryScheduler>;
  /** Runs a call to Firestore, Pub/Sub or Cloud Tasks; connection and credential failures exit 3. */
  call<T>(what: string, operation: () => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

function readStackFile(): LocalStackFile | undefined {
  try {
    const value = JSON.parse(readFileSync(STACK_FILE, 'utf8')) as LocalStackFile;
    return typeof value.projectId === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}

/** gRPC codes and messages that mean "cannot talk to it", as opposed to "it said no to this request". */
const UNREACHABLE_CODES = new Set<number>([GrpcStatus.DEADLINE_EXCEEDED, GrpcStatus.PERMISSION_DENIED, GrpcStatus.UNAVAILABLE, GrpcStatus.UNAUTHENTICATED]);
const UNREACHABLE_TEXT = /default credentials|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|getaddrinfo|socket hang up|No connection established|Could not refresh access token/i;

export function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown }).code;
  return (typeof code === 'number' && UNREACHABLE_CODES.has(code)) || UNREACHABLE_TEXT.test(String((error as Error).message ?? error));
}

/** An emulator answers at host:port (a TCP connect: works for the HTTP and the gRPC ones). */
function probe(host: string, timeoutMs = 2000): Promise<boolean> {
  const [hostname, port] = [host.slice(0, host.lastIndexOf(':')), Number(host.slice(host.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const socket = connect({ host: hostname.replace(/^\[|\]$/g, ''), port, timeout: timeoutMs });
    const done = (result: boolean) => {
      socket.destroy();
      resolve(result);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

export function resolveEnvironment(projectOption: string | undefined, command: string, env: NodeJS.ProcessEnv = process.env): CliEnvironment {
  const fromEnv = { firestore: env.FIRESTORE_EMULATOR_HOST || undefined, pubsub: env.PUBSUB_EMULATOR_HOST || undefined, tasks: env.CLOUD_TASKS_EMULATOR_HOST || undefined };
  // The stack file only counts when no emulator is named in the environment: mixing them would point
  // one client at one emulator and another at a different one.
  const stack = fromEnv.firestore || fromEnv.pubsub || fromEnv.tasks ? undefined : readStackFile();
  const hosts = stack ? { firestore: stack.firestore, pubsub: stack.pubsub, tasks: stack.tasks } : fromEnv;
  const emulated = Boolean(hosts.firestore || hosts.pubsub || hosts.tasks);
  const projectId = projectOption || env.GOOGLE_CLOUD_PROJECT || stack?.projectId || (emulated ? DEFAULT_PROJECT_ID : undefined);
  if (!projectId) {
    throw usageError('no project: pass --project ID or set GOOGLE_CLOUD_PROJECT (or start the local stack with npm start, or name the emulators with FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST)', command);
  }
  const where = stack ? `the local stack's emulators (project ${projectId})` : emulated ? `the emulators (project ${projectId})` : `Google Cloud project ${projectId}`;
  const source = stack ? ' (from .local/stack.json: is npm start still running?)' : '';
  // Google's clients read the emulator hosts from the environment when they are created.
  for (const [name, value] of [['FIRESTORE_EMULATOR_HOST', hosts.firestore], ['PUBSUB_EMULATOR_HOST', hosts.pubsub]] as const) {
    if (value) process.env[name] = value;
    else delete process.env[name];
  }
  if (emulated) process.env.METADATA_SERVER_DETECTION ??= 'none';
  const config = loadConfig({
    ...env,
    GOOGLE_CLOUD_PROJECT: projectId,
    CLOUD_TASKS_EMULATOR_HOST: hosts.tasks ?? '',
    EVENTS_TOPIC: env.EVENTS_TOPIC || stack?.topic || '',
    TASKS_LOCATION: env.TASKS_LOCATION || stack?.tasksLocation || '',
    TASKS_QUEUE: env.TASKS_QUEUE || stack?.tasksQueue || '',
    RETRY_WORKER_URL: env.RETRY_WORKER_URL || stack?.retryWorkerUrl || '',
  });

  const reachable = async (name: string, host: string | undefined) => {
    if (host && !(await probe(host))) throw new CliError(EXIT.unreachable, `cannot reach the ${name} emulator at ${host}${source}`);
  };
  let firestore: Promise<Firestore> | undefined;
  let pubsub: Promise<PubSub> | undefined;
  let scheduler: Promise<CloudTasksRetryScheduler> | undefined;
  const environment: CliEnvironment = {
    projectId,
    where,
    config,
    secretsFile: env.LOCAL_SECRETS_FILE || stack?.secretsFile,
    firestore: () =>
      (firestore ??= (async () => {
        await reachable('Firestore', hosts.firestore);
        const { Firestore } = await import('@google-cloud/firestore');
        return new Firestore({ projectId, ignoreUndefinedProperties: true });
      })()),
    pubsub: () =>
      (pubsub ??= (async () => {
        await reachable('Pub/Sub', hosts.pubsub);
        const { PubSub } = await import('@google-cloud/pubsub');
        return new PubSub({ projectId });
      })()),
    scheduler: () =>
      (scheduler ??= (async () => {
        await reachable('Cloud Tasks', hosts.tasks);
        if (!config.tasks.workerUrl) {
          throw new CliError(EXIT.usage, 'RETRY_WORKER_URL is not set: replays are sent by the retry worker, and its URL is the target of their tasks', 'set RETRY_WORKER_URL and TASKS_INVOKER_SERVICE_ACCOUNT (terraform output retry_worker_function and service_accounts), or run against the local stack');
        }
        return new CloudTasksRetryScheduler({ projectId, location: config.tasks.location, queue: config.tasks.queue, workerUrl: config.tasks.workerUrl, invokerServiceAccount: config.tasks.invokerServiceAccount, emulatorHost: config.tasks.emulatorHost });
      })()),
    async call(what, operation) {
      try {
        return await operation();
      } catch (error) {
        if (error instanceof CliError) throw error;
        if (isUnreachable(error)) throw new CliError(EXIT.unreachable, `cannot ${what} in ${where}: ${(error as Error).message.split('\n')[0]}${source}`);
        throw error;
      }
    },
    async close() {
      const closing: Array<Promise<unknown>> = [];
      if (firestore) closing.push(firestore.then((db) => db.terminate()));
      if (pubsub) closing.push(pubsub.then((client) => client.close()));
      await Promise.allSettled(closing);
    },
  };
  return environment;
}
