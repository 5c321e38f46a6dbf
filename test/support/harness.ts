/**
 * The whole pipeline on real parts for one test file: the Pub/Sub and Firestore emulators started by
 * `npm test` (PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST), the Cloud Tasks emulator, and the two
 * functions served by the functions framework on 127.0.0.1 — the production handlers and adapters,
 * configured through the same environment variables as in production. Each harness uses its own
 * project id, so files running side by side never see each other's data.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { LookupFunction } from 'node:net';
import { Firestore } from '@google-cloud/firestore';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import type { PubSub } from '@google-cloud/pubsub';
import { startCloudTasksEmulator, type CloudTasksEmulator, type EmulatorState } from '../../functions/dev/cloud-tasks-emulator/cloud-tasks-emulator.ts';
import { createEventsTopic, createRetryQueue } from '../../functions/dev/emulator-wiring.ts';
import { loadConfig } from '../../functions/src/config/runtime-config.ts';
import { createDependencies, type Dependencies, type DependencyOverrides } from '../../functions/src/entry/dependencies.ts';
import { createDispatchHandler } from '../../functions/src/entry/dispatch-handler.ts';
import { createRetryWorkerHandler } from '../../functions/src/entry/retry-worker-handler.ts';
import type { EventMessage } from '../../functions/src/events/event-message.ts';
import { deliveryPath, webhookPath } from '../../functions/src/firestore/firestore-layout.ts';
import { fromFirestore } from '../../functions/src/firestore/firestore-values.ts';
import type { StoredDelivery } from '../../functions/src/delivery/ports.ts';
import { createMemoryLogger } from '../../functions/src/log/logger.ts';

for (const name of ['PUBSUB_EMULATOR_HOST', 'FIRESTORE_EMULATOR_HOST']) {
  if (!process.env[name]) throw new Error(`${name} is not set: run the integration tests through npm test, which starts the emulators`);
}
process.env.METADATA_SERVER_DETECTION = 'none';

let registered = 0;

export interface HarnessOptions {
  env?: Record<string, string>;
  lookup?: LookupFunction;
  overrides?: Omit<DependencyOverrides, 'firestore' | 'logger' | 'lookup'>;
}

export interface Harness {
  projectId: string;
  db: Firestore;
  pubsub: PubSub;
  tasks: CloudTasksEmulator;
  deps: Dependencies;
  logs: ReturnType<typeof createMemoryLogger>['entries'];
  dispatchUrl: string;
  workerUrl: string;
  publish(event: EventMessage | string | Buffer, attributes?: Record<string, string>): Promise<string>;
  setWebhook(accountId: string, webhookId: string, document: Record<string, unknown>): Promise<void>;
  delivery(accountId: string, webhookId: string, eventId: string): Promise<StoredDelivery | undefined>;
  waitForDelivery(accountId: string, webhookId: string, eventId: string, until?: (record: StoredDelivery) => boolean, timeoutMs?: number): Promise<StoredDelivery>;
  stopTasks(): Promise<void>;
  restartTasks(): Promise<void>;
  close(): Promise<void>;
}

const isFinal = (record: StoredDelivery) => ['succeeded', 'failed', 'invalid'].includes(record.status);

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const projectId = `test-${randomBytes(4).toString('hex')}`;
  const id = ++registered;
  let deps: Dependencies | undefined;
  const getDeps = () => deps ?? (() => { throw new Error('harness not ready'); })();

  functions.cloudEvent(`dispatchEvent_${id}`, createDispatchHandler(getDeps));
  functions.http(`retryWorker_${id}`, createRetryWorkerHandler(getDeps));
  const dispatchServer = getTestServer(`dispatchEvent_${id}`);
  const workerServer = getTestServer(`retryWorker_${id}`);
  const [dispatchUrl, workerUrl] = await Promise.all([listen(dispatchServer), listen(workerServer)]);

  let tasksState: EmulatorState | undefined;
  let tasks = await startCloudTasksEmulator();
  tasksState = tasks.state;
  const tasksPort = tasks.port;
  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: projectId,
    RETRY_BASE_DELAY_SECONDS: '1',
    ALLOW_LOOPBACK_DESTINATIONS: 'true',
    WEBHOOK_CACHE_SECONDS: '0',
    RETRY_WORKER_URL: workerUrl,
    CLOUD_TASKS_EMULATOR_HOST: tasks.address,
    ...options.env,
  });
  await createRetryQueue({ address: tasks.address, projectId, location: config.tasks.location, queue: config.tasks.queue });
  const db = new Firestore({ projectId });
  const memory = createMemoryLogger();
  deps = createDependencies(config, { ...options.overrides, firestore: db, logger: memory, ...(options.lookup ? { lookup: options.lookup } : {}) });
  const pubsub = await createEventsTopic({ projectId, topic: config.eventsTopic, dispatchUrl });

  const harness: Harness = {
    projectId,
    db,
    pubsub,
    get tasks() {
      return tasks;
    },
    deps,
    logs: memory.entries,
    dispatchUrl,
    workerUrl,
    async publish(event, attributes) {
      const data = Buffer.isBuffer(event) ? event : Buffer.from(typeof event === 'string' ? event : JSON.stringify(event));
      const attrs = attributes ?? (typeof event === 'object' && !Buffer.isBuffer(event) ? { type: event.type, accountId: event.accountId } : {});
      return pubsub.topic(config.eventsTopic).publishMessage({ data, attributes: attrs });
    },
    async setWebhook(accountId, webhookId, document) {
      await db.doc(webhookPath(accountId, webhookId)).set(document);
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
      throw new Error(`delivery ${webhookId}/${eventId} did not reach the expected state within ${timeoutMs} ms; last: ${JSON.stringify(last ? { status: last.status, attempts: last.attempts.length, lastError: last.lastError } : null)}`);
    },
    async stopTasks() {
      await tasks.stop();
    },
    async restartTasks() {
      tasks = await startCloudTasksEmulator({ port: tasksPort, ...(tasksState ? { state: tasksState } : {}) });
    },
    async close() {
      await Promise.allSettled([
        tasks.stop(),
        pubsub.close(),
        db.terminate(),
        new Promise((resolve) => dispatchServer.close(resolve)),
        new Promise((resolve) => workerServer.close(resolve)),
      ]);
      dispatchServer.closeAllConnections?.();
      workerServer.closeAllConnections?.();
    },
  };
  return harness;
}

let sequence = 0;
/** A fresh event id per call, so tests never collide on the delivery log's idempotency key. */
export function eventOf(type: EventMessage['type'], accountId: string, data: Record<string, unknown> = {}): EventMessage {
  return { id: `evt_${Date.now().toString(36)}_${(++sequence).toString(36)}_${randomBytes(3).toString('hex')}`, type, accountId, occurredAt: new Date().toISOString(), data };
}
