import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { fromFirestore, type StoredDelivery } from '../support/kit.ts';

// `rateLimit` on the emulators and the built functions: the deliveries of a rate-limited webhook go
// through a Cloud Tasks queue of its own, and the queue's limits (enforced by the emulator as Cloud
// Tasks does) spread a burst out instead of the receiver answering 429.
let h: Harness;
before(async () => {
  h = await startHarness();
});
after(async () => {
  await h.close();
});

const ACCOUNT = 'acc_rate_limit';

/** A receiver of its own, on 127.0.0.1: `handle` answers; it sees every request as it arrives. */
async function startServer(handle: (res: import('node:http').ServerResponse) => void): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => handle(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The webhook's deliveries once `count` of them are final (succeeded, failed or invalid). */
async function finalDeliveries(webhookId: string, count: number, timeoutMs: number): Promise<StoredDelivery[]> {
  const deadline = Date.now() + timeoutMs;
  let records: StoredDelivery[] = [];
  while (Date.now() < deadline) {
    const snapshot = await h.db.collection(`accounts/${ACCOUNT}/webhooks/${webhookId}/deliveries`).get();
    records = snapshot.docs.map((doc) => fromFirestore<StoredDelivery>(doc.data()));
    if (records.filter((record) => ['succeeded', 'failed', 'invalid'].includes(record.status)).length >= count) return records;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const byStatus = records.reduce<Record<string, number>>((counts, record) => ({ ...counts, [record.status]: (counts[record.status] ?? 0) + 1 }), {});
  throw new Error(`${count} final deliveries of ${webhookId} expected within ${timeoutMs} ms; got ${JSON.stringify(byStatus)}\n${h.output()}`);
}

describe('rateLimit per webhook', () => {
  it("the seed's Airtable case: 100 events in 1 s to a receiver allowing 5 requests a second all succeed, never more than 5 (+1) a second", async () => {
    const LIMIT = 5;
    // Airtable's rule: more than 5 requests in the current second are answered 429.
    const perSecond = new Map<number, number>();
    let answered429 = 0;
    const airtable = await startServer((res) => {
      const second = Math.floor(Date.now() / 1000);
      const seen = (perSecond.get(second) ?? 0) + 1;
      perSecond.set(second, seen);
      if (seen > LIMIT) answered429 += 1;
      res.statusCode = seen > LIMIT ? 429 : 200;
      res.end(seen > LIMIT ? '{"errors":[{"error":"RATE_LIMIT_REACHED"}]}' : '{"records":[]}');
    });
    try {
      await h.setWebhook(ACCOUNT, 'airtable', { name: 'Airtable', events: ['call.created'], url: `${airtable.url}/v0/base/calls`, rateLimit: { perSecond: LIMIT } });
      const events = Array.from({ length: 100 }, () => eventOf('call.created', ACCOUNT, { call: { id: 'c' } }));
      const started = Date.now();
      await Promise.all(events.map((event) => h.publish(event)));
      // A burst, whatever the machine's speed: published at 4 × the limit or faster (on a quiet machine, within 1 s).
      assert.ok(Date.now() - started < (events.length / (4 * LIMIT)) * 1000, `published at 4 × the limit or faster (took ${Date.now() - started} ms)`);

      const records = await finalDeliveries('airtable', 100, 45_000);
      const failed = records.filter((record) => record.status !== 'succeeded');
      assert.equal(failed.length, 0, `none failed: ${failed.slice(0, 3).map((record) => `${record.status} ${record.errorCode}: ${record.lastError}`).join('; ')}`);
      assert.equal(records.filter((record) => record.status === 'succeeded').length, 100);
      const busiest = Math.max(...perSecond.values());
      assert.ok(busiest <= LIMIT + 1, `at most ${LIMIT} (+1) requests in any second; seen ${busiest}: ${JSON.stringify([...perSecond.values()])}`);
      assert.ok(answered429 <= 2, `the burst was spread, not answered 429 (${answered429} 429s)`);
    } finally {
      await airtable.close();
    }
  });

  it('maxInFlight: the receiver never has more than M requests open at once', async () => {
    const M = 2;
    let open = 0;
    let most = 0;
    const slow = await startServer((res) => {
      open += 1;
      most = Math.max(most, open);
      setTimeout(() => {
        open -= 1;
        res.end('ok');
      }, 1000);
    });
    try {
      await h.setWebhook(ACCOUNT, 'narrow', { name: 'narrow', events: ['call.created'], url: `${slow.url}/hook`, rateLimit: { maxInFlight: M } });
      await Promise.all(Array.from({ length: 10 }, () => h.publish(eventOf('call.created', ACCOUNT))));
      const records = await finalDeliveries('narrow', 10, 30_000);
      assert.deepEqual(records.map((record) => record.status), Array(10).fill('succeeded'));
      assert.equal(most, M, `at most ${M} at once, and the queue used ${M} (saw ${most})`);
    } finally {
      await slow.close();
    }
  });

  it('a changed limit updates the queue (UpdateQueue); the queue is named after the webhook, not reused by another', async () => {
    const { projectId } = h;
    const queues = () => [...h.tasks.state.queues.values()].filter((queue) => queue.name?.includes('-rl-'));
    const before = queues().find((queue) => queue.rateLimits?.maxConcurrentDispatches === 2);
    assert.ok(before, `the narrow webhook's queue exists: ${JSON.stringify(queues().map((queue) => queue.name))}`);
    assert.match(before.name ?? '', new RegExp(`^projects/${projectId}/locations/[a-z0-9-]+/queues/hookshape-retries-rl-[0-9a-f]{16}$`));
    await h.setWebhook(ACCOUNT, 'narrow', { name: 'narrow', events: ['call.created'], url: 'http://127.0.0.1:9/never', rateLimit: { maxInFlight: 4, perSecond: 10 } });
    const event = eventOf('call.created', ACCOUNT);
    await h.publish(event);
    await h.waitForDelivery(ACCOUNT, 'narrow', event.id, (record) => record.attempts.length > 0 || record.status !== 'retrying');
    const after = h.tasks.state.queues.get(before.name ?? '');
    assert.deepEqual([after?.rateLimits?.maxDispatchesPerSecond, after?.rateLimits?.maxConcurrentDispatches], [8, 4]);
    assert.equal(queues().length, 2, 'one queue per rate-limited webhook');
  });
});
