import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

// The deployed dispatcher (build/functions, one warm process) with WEBHOOK_CACHE_SECONDS=20 (the default
// is 10; four deliveries and an edit must fit in the period on a busy machine): an edit is not seen within
// the cache period of what the instance read, and is seen after it.
// How often templates are prepared cannot be seen from outside: test/unit/webhook-cache.test.ts counts it.
const CACHE_SECONDS = 20;

let h: Harness;
let receiver: Receiver;

before(async () => {
  [h, receiver] = await Promise.all([startHarness({ env: { WEBHOOK_CACHE_SECONDS: String(CACHE_SECONDS) } }), startReceiver()]);
});
after(async () => {
  await Promise.all([h.close(), receiver.close()]);
});

async function deliver(n: number) {
  const event = eventOf('call.created', 'acc_cache', { n });
  const publishedAt = Date.now();
  await h.publish(event);
  const record = await h.waitForDelivery('acc_cache', 'wh_cache', event.id);
  assert.equal(record.status, 'succeeded', String(record.lastError));
  const request = receiver.requests.find((r) => r.headers['x-event'] === event.id);
  assert.ok(request, 'the receiver got no request for the event');
  return { request, publishedAt, deliveredAt: Date.now() };
}

describe('webhook cache on a warm instance (the bundle)', () => {
  it('sends the version it read for the cache period, and an edit once the period ends', async () => {
    await h.setWebhook('acc_cache', 'wh_cache', {
      name: 'cached',
      events: ['call.created'],
      url: `${receiver.url}/v1/{{ data.n }}`,
      query: { n: '{{ data.n }}' },
      headers: { 'X-Event': '{{ event.id }}' },
      body: '{"version": 1, "n": {{ data.n }}}',
    });
    // The first event reads the webhooks (the cache entry is made between its publish and its delivery).
    const first = await deliver(1);
    assert.equal(first.request.url, '/v1/1?n=1');
    for (const n of [2, 3]) {
      const { request } = await deliver(n);
      assert.equal(request.url, `/v1/${n}?n=${n}`);
      assert.deepEqual(JSON.parse(request.body), { version: 1, n });
    }

    await h.setWebhook('acc_cache', 'wh_cache', {
      name: 'cached',
      events: ['call.created'],
      url: `${receiver.url}/v2/{{ data.n }}`,
      headers: { 'X-Event': '{{ event.id }}' },
      body: '{"version": 2, "n": {{ data.n }}}',
    });
    // Within the cache period the instance still sends the version it read (docs/operations.md, Configuration: stale up to WEBHOOK_CACHE_SECONDS).
    const stale = await deliver(4);
    assert.ok(stale.deliveredAt - first.publishedAt < CACHE_SECONDS * 1000, `the test itself was too slow: event 4 came ${stale.deliveredAt - first.publishedAt} ms after the cache entry`);
    assert.deepEqual(JSON.parse(stale.request.body), { version: 1, n: 4 });

    // The entry was made before the first delivery was recorded: past that plus the period, it has expired.
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, first.deliveredAt + CACHE_SECONDS * 1000 + 300 - Date.now())));
    const edited = await deliver(5);
    assert.equal(edited.request.url, '/v2/5');
    assert.deepEqual(JSON.parse(edited.request.body), { version: 2, n: 5 });
  });
});
