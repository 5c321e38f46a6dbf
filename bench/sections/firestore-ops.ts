/**
 * Section: Firestore operations per event on a warm instance. Runs the real dispatchEvent with the
 * production adapters (createDependencies: CachedWebhookStore over FirestoreWebhookStore,
 * FirestoreDeliveryLog) against the Firestore emulator, counting operations at the client boundary,
 * for an event fanning out to 1 and to 10 webhooks: the first event of an (account, type), the next one
 * within the cache period, a redelivered event, one after the period, and an edited webhook (how stale
 * the cache lets a delivery be).
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { Firestore } from '@google-cloud/firestore';
import type { PubSubMessage } from '../../functions/src/dispatch/dispatch-event.ts';
import { webhookPath } from '../../functions/src/firestore/firestore-layout.ts';
import type { EventMessage } from '../../functions/src/events/event-message.ts';
import { measuredCode } from '../measured/built.ts';
import { progress, sectionOptions, writeResult } from '../lib/child.ts';
import { billedReads, countOperations, totalWrites, type OpCounts } from '../lib/firestore-counter.ts';
import { benchEvent, DEMO_SECRETS, demoWebhook } from '../lib/fixtures.ts';

export interface FirestoreOpsOptions {
  cacheSeconds: number;
}

export interface ScenarioCounts {
  deliveries: number;
  statuses: string[];
  queries: number;
  reads: number;
  writes: number;
  readsPerDelivery: number;
  writesPerDelivery: number;
  transactions: number;
  rpcs: Record<string, number>;
  detail: OpCounts;
}

export interface FirestoreOpsResult {
  cacheSeconds: number;
  fanOut: Record<string, Record<string, ScenarioCounts>>;
  staleness: { editedWithinPeriodSeenOld: boolean; seenAfterPeriod: boolean; maxStaleSeconds: number };
}

// The production code as built (bench/measured), with the Firestore client the bundle carries: the
// operations are counted on that copy's classes. The seeding client is node_modules' own.
const measured = await measuredCode();
const { createDependencies, dispatchEvent, loadConfig, silentLogger } = measured;

async function main(): Promise<void> {
  const options = sectionOptions<FirestoreOpsOptions>();
  if (!process.env.FIRESTORE_EMULATOR_HOST) throw new Error('FIRESTORE_EMULATOR_HOST is not set');
  const projectId = `bench-${randomBytes(4).toString('hex')}`;
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    req.resume();
    req.on('end', () => res.end('{"ok":true}'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(server.address() as { port: number }).port}`;

  let offsetMs = 0;
  const clock = { now: () => new Date(Date.now() + offsetMs) };
  const db = new measured.Firestore({ projectId, ignoreUndefinedProperties: true });
  const seed = new Firestore({ projectId });
  const counter = countOperations(db, measured);
  const config = loadConfig({ GOOGLE_CLOUD_PROJECT: projectId, ALLOW_LOOPBACK_DESTINATIONS: 'true', WEBHOOK_CACHE_SECONDS: String(options.cacheSeconds) });
  let scheduled = 0;
  const deps = createDependencies(config, {
    firestore: db,
    logger: silentLogger,
    clock,
    secrets: { secretsFor: async () => DEMO_SECRETS },
    scheduler: { schedule: async () => void scheduled++ },
  });

  const accounts = { '1': 'acc_fanout_1', '10': 'acc_fanout_10' } as const;
  for (const [fanOut, accountId] of Object.entries(accounts)) {
    for (let i = 1; i <= Number(fanOut); i++) {
      await seed.doc(webhookPath(accountId, `airtable-${String(i).padStart(2, '0')}`)).set(demoWebhook(`${receiverUrl}/v0/appDemo/Calls`));
    }
    // Not subscribed to call.created: the query must not return it.
    await seed.doc(webhookPath(accountId, 'other-type')).set({ ...demoWebhook(`${receiverUrl}/other`), events: ['user.created'] });
  }

  let sequence = 0;
  const newEvent = (accountId: string): EventMessage => benchEvent(`evt_bench_${Date.now().toString(36)}_${++sequence}`, accountId);
  const message = (event: EventMessage): PubSubMessage => ({ messageId: `msg_${event.id}`, data: Buffer.from(JSON.stringify(event)), attributes: { type: event.type, accountId: event.accountId } });
  const measure = async (event: EventMessage): Promise<ScenarioCounts> => {
    counter.reset();
    const outcomes = await dispatchEvent(deps, message(event));
    const c = counter.counts();
    const deliveries = outcomes.length;
    const reads = billedReads(c);
    const writes = totalWrites(c);
    return {
      deliveries,
      statuses: [...new Set(outcomes.map((o) => o.status))],
      queries: c.queries,
      reads,
      writes,
      readsPerDelivery: deliveries ? reads / deliveries : 0,
      writesPerDelivery: deliveries ? writes / deliveries : 0,
      transactions: c.transactions,
      rpcs: c.rpcs,
      detail: c,
    };
  };

  const fanOut: FirestoreOpsResult['fanOut'] = {};
  for (const [n, accountId] of Object.entries(accounts)) {
    progress(`firestore ops: event fanning out to ${n} webhook(s)`);
    offsetMs += (options.cacheSeconds + 1) * 1000; // start each account outside any cache period
    const first = await measure(newEvent(accountId));
    const secondEvent = newEvent(accountId);
    const second = await measure(secondEvent);
    const redelivered = await measure(secondEvent);
    offsetMs += (options.cacheSeconds + 1) * 1000;
    const afterPeriod = await measure(newEvent(accountId));
    fanOut[n] = { firstEvent: first, withinCachePeriod: second, redelivered, afterCachePeriod: afterPeriod };
  }

  // An edited webhook: within the period the instance still delivers the version it cached.
  progress('firestore ops: an edited webhook within and after the cache period');
  const accountId = accounts['1'];
  offsetMs += (options.cacheSeconds + 1) * 1000;
  await measure(newEvent(accountId)); // caches the current version
  await seed.doc(webhookPath(accountId, 'airtable-01')).set(demoWebhook(`${receiverUrl}/v1/edited`));
  paths.length = 0;
  await measure(newEvent(accountId));
  const editedWithinPeriodSeenOld = paths.some((path) => path.startsWith('/v0/'));
  offsetMs += options.cacheSeconds * 1000; // exactly one period after the caching query
  paths.length = 0;
  await measure(newEvent(accountId));
  const seenAfterPeriod = paths.some((path) => path.startsWith('/v1/edited'));

  writeResult({ cacheSeconds: options.cacheSeconds, fanOut, staleness: { editedWithinPeriodSeenOld, seenAfterPeriod, maxStaleSeconds: options.cacheSeconds } } satisfies FirestoreOpsResult);
  await Promise.allSettled([db.terminate(), seed.terminate()]);
  server.close();
  server.closeAllConnections();
  if (scheduled > 0) progress(`note: ${scheduled} retry(ies) scheduled: a delivery did not succeed`);
  process.exit(0);
}

await main();
