/**
 * The whole pipeline on real parts for one test file: the Pub/Sub and Firestore emulators started by
 * `npm test` (PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST), the Cloud Tasks emulator, and the three
 * functions of the deployable — build/functions, exactly what Terraform zips — each in its own process
 * under the functions framework on 127.0.0.1 (`--source=build/functions --target=<name>`), configured
 * through the same environment variables as in production. Their structured log lines (stdout) are
 * parsed into `logs`. Each harness uses its own project id, so files running side by side never see
 * each other's data. `db` is a client of the bundle's Firestore copy (test/support/kit.ts), so what it
 * reads can be handed to the bundle's helpers. npm test builds first; run `npm run build` before running
 * a test file alone.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { PubSub } from '@google-cloud/pubsub';
import { startCloudTasksEmulator, type CloudTasksEmulator, type EmulatorState } from '../../functions/dev/cloud-tasks-emulator/cloud-tasks-emulator.ts';
import { createDeadLetterTopic, createEventsTopic, createOperationsTopic, createRetryQueue } from '../../functions/dev/emulator-wiring.ts';
import { freePort } from '../../functions/dev/emulators.ts';
import { firestoreWrittenRequest } from '../../functions/dev/firestore-trigger-event.ts';
import { startFunctionProcess, type FunctionName, type FunctionProcess } from '../../functions/dev/function-process.ts';
import { BUILD_DIR } from '../../scripts/build.ts';
import { deliveryPath, Firestore, fromFirestore, hasEnded, loadConfig, webhookPath, type EventMessage, type StoredDelivery } from './kit.ts';
import { functionsEnv } from './functions-env.ts';

for (const name of ['PUBSUB_EMULATOR_HOST', 'FIRESTORE_EMULATOR_HOST']) {
  if (!process.env[name]) throw new Error(`${name} is not set: run the integration tests through npm test, which starts the emulators`);
}
process.env.METADATA_SERVER_DETECTION = 'none';

/** One structured log line of a function, as Cloud Logging reads it, with the function that wrote it. */
export type LogEntry = { severity: string; message: string; function: FunctionName } & Record<string, unknown>;

/** The functions every harness runs (the repair sweep and deadLetterNotify are started by the tests that need them). */
export type HarnessFunction = Exclude<FunctionName, 'repairDeliveries' | 'deadLetterNotify'>;

export interface HarnessOptions {
  /** Environment of the functions, over the harness's defaults; `undefined` removes a variable. */
  env?: Record<string, string | undefined>;
  /** Also run the repair sweep (repairDeliveries), called by `sweep()`; its log lines join `logs`. */
  repair?: boolean;
  /**
   * Also run deadLetterNotify behind the events' dead-letter topic (push subscription `…-notify`, and
   * the pull subscription `…-inspect`), as terraform/pubsub.tf wires it; `publishDeadLetter()` publishes
   * there. Its log lines join `logs`.
   */
  deadLetters?: boolean;
}

export interface Harness {
  projectId: string;
  db: Firestore;
  pubsub: PubSub;
  tasks: CloudTasksEmulator;
  /** Every structured log line of the functions so far (also of processes killed or restarted). */
  logs: LogEntry[];
  /** The function processes: kill (SIGKILL by default), restart on the same port, output. */
  functions: Record<HarnessFunction, FunctionProcess>;
  dispatchUrl: string;
  workerUrl: string;
  /** The operations topic (OPERATIONAL events), pushed to the dispatcher like the events topic. */
  operationsTopic: string;
  validateUrl: string;
  /** With `repair: true`: one run of the repair sweep (POST {}), its HTTP status and answer. */
  sweep(): Promise<{ status: number; body: unknown }>;
  /** With `deadLetters: true`: the dead-letter topic (`<events topic>-dead-letter`). */
  deadLetterTopic: string | undefined;
  /** With `deadLetters: true`: publishes to the dead-letter topic what Pub/Sub forwards there; its message id. */
  publishDeadLetter(data: string | Buffer, attributes: Record<string, string>): Promise<string>;
  /** What the functions run with (GOOGLE_CLOUD_PROJECT, RETRY_WORKER_URL...). */
  env: Record<string, string | undefined>;
  publish(event: EventMessage | string | Buffer, attributes?: Record<string, string>): Promise<string>;
  setWebhook(accountId: string, webhookId: string, document: Record<string, unknown>): Promise<void>;
  /** Sends validateWebhook what Eventarc sends for a write of the webhook document; the HTTP status. */
  validate(accountId: string, webhookId: string, options?: { subject?: boolean }): Promise<number>;
  delivery(accountId: string, webhookId: string, eventId: string): Promise<StoredDelivery | undefined>;
  waitForDelivery(accountId: string, webhookId: string, eventId: string, until?: (record: StoredDelivery) => boolean, timeoutMs?: number): Promise<StoredDelivery>;
  waitForLog(predicate: (entry: LogEntry) => boolean, timeoutMs?: number): Promise<LogEntry>;
  /** The output of every function process, for a failure message. */
  output(): string;
  stopTasks(): Promise<void>;
  restartTasks(): Promise<void>;
  close(): Promise<void>;
}

const isFinal = (record: StoredDelivery) => hasEnded(record.status);

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  if (!existsSync(join(BUILD_DIR, 'index.js'))) throw new Error(`${BUILD_DIR}/index.js is missing: run npm run build (npm test builds first)`);
  const projectId = `test-${randomBytes(4).toString('hex')}`;
  // A claimed port, not the kernel's pick: restartTasks binds it again after a stop, when another process could have it.
  let tasks = await startCloudTasksEmulator({ port: await freePort() });
  const tasksState: EmulatorState = tasks.state;
  const tasksPort = tasks.port;
  const [dispatchPort, workerPort, validatePort] = await Promise.all([freePort(), freePort(), freePort()]);
  const workerUrl = `http://127.0.0.1:${workerPort}/`;
  const env: Record<string, string | undefined> = {
    ...functionsEnv({ projectId, tasksAddress: tasks.address, workerPort }, { WEBHOOK_CACHE_SECONDS: '0' }),
    FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST,
    ...options.env,
  };
  const config = loadConfig(Object.fromEntries(Object.entries(env).filter((entry): entry is [string, string] => entry[1] !== undefined)));
  const logs: LogEntry[] = [];
  const collect = (target: FunctionName) => (line: string, stream: 'stdout' | 'stderr') => {
    if (stream !== 'stdout' || !line.startsWith('{')) return;
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      if (typeof entry.severity === 'string' && typeof entry.message === 'string') logs.push({ ...entry, function: target } as LogEntry);
    } catch {
      // not a structured line: kept in the process output only
    }
  };
  const started = await Promise.allSettled(
    ([['dispatchEvent', dispatchPort], ['retryWorker', workerPort], ['validateWebhook', validatePort]] as const).map(([target, port]) =>
      startFunctionProcess({ target, port, env, onLine: collect(target) }),
    ),
  );
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.allSettled([tasks.stop(), ...started.flatMap((result) => (result.status === 'fulfilled' ? [result.value.stop()] : []))]);
    throw (failed as PromiseRejectedResult).reason;
  }
  const [dispatch, worker, validator] = started.map((result) => (result as PromiseFulfilledResult<FunctionProcess>).value) as [FunctionProcess, FunctionProcess, FunctionProcess];
  const functions: Record<HarnessFunction, FunctionProcess> = { dispatchEvent: dispatch, retryWorker: worker, validateWebhook: validator };
  const repair = options.repair ? await startFunctionProcess({ target: 'repairDeliveries', port: await freePort(), env, onLine: collect('repairDeliveries') }) : undefined;
  const deadLetterNotify = options.deadLetters ? await startFunctionProcess({ target: 'deadLetterNotify', port: await freePort(), env, onLine: collect('deadLetterNotify') }) : undefined;
  await createRetryQueue({ address: tasks.address, projectId, location: config.tasks.location, queue: config.tasks.queue });
  const db = new Firestore({ projectId });
  const pubsub = await createEventsTopic({ projectId, topic: config.eventsTopic, dispatchUrl: dispatch.url });
  await createOperationsTopic({ pubsub, projectId, topic: config.operationsTopic, dispatchUrl: dispatch.url });
  const deadLetterTopic = deadLetterNotify ? await createDeadLetterTopic({ pubsub, projectId, eventsTopic: config.eventsTopic, notifyUrl: deadLetterNotify.url }) : undefined;
  // The retry worker warm, as after its first task: its cold start (Firestore connection) would otherwise
  // land in the first retry's wait, and the retry tests measure the waits of the schedule. A task of
  // a delivery that does not exist: answered 200 'no such delivery', nothing written.
  const warmup = { accountId: 'harness-warmup', webhookId: 'warmup', eventId: 'warmup', attempt: 2 };
  const warmed = await fetch(workerUrl, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CloudTasks-QueueName': config.tasks.queue, 'X-CloudTasks-TaskName': 'harness-warmup' }, body: JSON.stringify(warmup) });
  if (warmed.status !== 200) throw new Error(`the retry worker answered ${warmed.status} to the warm-up task: ${await warmed.text()}\n${worker.output()}`);
  await warmed.text();
  const output = () => [...Object.values(functions), ...(deadLetterNotify ? [deadLetterNotify] : [])].map((fn) => `--- ${fn.target} (port ${fn.port})\n${fn.output().slice(-20_000)}`).join('\n');

  const harness: Harness = {
    projectId,
    db,
    pubsub,
    get tasks() {
      return tasks;
    },
    logs,
    functions,
    dispatchUrl: dispatch.url,
    workerUrl,
    operationsTopic: config.operationsTopic,
    validateUrl: validator.url,
    async sweep() {
      if (!repair) throw new Error('startHarness({ repair: true }) runs the repair sweep');
      const response = await fetch(repair.url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      return { status: response.status, body: (await response.json()) as unknown };
    },
    deadLetterTopic,
    async publishDeadLetter(data, attributes) {
      if (!deadLetterTopic) throw new Error('startHarness({ deadLetters: true }) wires the dead-letter topic');
      return pubsub.topic(deadLetterTopic).publishMessage({ data: Buffer.isBuffer(data) ? data : Buffer.from(data), attributes });
    },
    env,
    async publish(event, attributes) {
      const data = Buffer.isBuffer(event) ? event : Buffer.from(typeof event === 'string' ? event : JSON.stringify(event));
      const attrs = attributes ?? (typeof event === 'object' && !Buffer.isBuffer(event) ? { type: event.type, accountId: event.accountId } : {});
      return pubsub.topic(config.eventsTopic).publishMessage({ data, attributes: attrs });
    },
    async setWebhook(accountId, webhookId, document) {
      await db.doc(webhookPath(accountId, webhookId)).set(document);
    },
    async validate(accountId, webhookId, validateOptions) {
      const response = await fetch(validator.url, firestoreWrittenRequest(projectId, webhookPath(accountId, webhookId), validateOptions));
      await response.text();
      return response.status;
    },
    async delivery(accountId, webhookId, eventId) {
      const snapshot = await db.doc(deliveryPath(accountId, webhookId, eventId)).get();
      return snapshot.exists ? fromFirestore<StoredDelivery>(snapshot.data()) : undefined;
    },
    async waitForDelivery(accountId, webhookId, eventId, until = isFinal, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last: StoredDelivery | undefined;
      while (Date.now() < deadline) {
        last = await harness.delivery(accountId, webhookId, eventId);
        if (last && until(last)) return last;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error(`delivery ${webhookId}/${eventId} did not reach the expected state within ${timeoutMs} ms; last: ${JSON.stringify(last ? { status: last.status, attempts: last.attempts.length, lastError: last.lastError } : null)}\n${output()}`);
    },
    async waitForLog(predicate, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = logs.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no such log line within ${timeoutMs} ms\n${output()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    output,
    async stopTasks() {
      await tasks.stop();
    },
    async restartTasks() {
      tasks = await startCloudTasksEmulator({ port: tasksPort, state: tasksState });
    },
    async close() {
      // SIGKILL: nothing of a test's instance needs a graceful end, and a draining framework only adds time.
      await Promise.allSettled([tasks.stop(), pubsub.close(), db.terminate(), ...[...Object.values(functions), ...(repair ? [repair] : []), ...(deadLetterNotify ? [deadLetterNotify] : [])].map((fn) => fn.kill('SIGKILL'))]);
    },
  };
  return harness;
}

let sequence = 0;
/** A fresh event id per call, so tests never collide on the delivery log's idempotency key. */
export function eventOf(type: EventMessage['type'], accountId: string, data: Record<string, unknown> = {}): EventMessage {
  return { id: `evt_${Date.now().toString(36)}_${(++sequence).toString(36)}_${randomBytes(3).toString('hex')}`, type, accountId, occurredAt: new Date().toISOString(), data };
}
