import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Clock } from '../../functions/src/core/ports.ts';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

// A clock that can be moved forward, so the cache period ends without waiting for it.
let offsetMs = 0;
const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };

let h: Harness;
let receiver: Receiver;
let prepared = 0;

before(async () => {
  [h, receiver] = await Promise.all([startHarness({ env: { WEBHOOK_CACHE_SECONDS: '60' }, overrides: { clock } }), startReceiver()]);
  // Count the templates the real engine prepares: once per webhook version, not once per event.
  const engine = h.deps.engine;
  const prepare = engine.prepare.bind(engine);
  engine.prepare = (...args) => {
    prepared++;
    return prepare(...args);
  };
});
after(async () => {
  await Promise.all([h.close(), receiver.close()]);
});

async function deliver(n: number) {
  const event = eventOf('call.created', 'acc_cache', { n });
  await h.publish(event);
  const record = await h.waitForDelivery('acc_cache', 'wh_cache', event.id);
  assert.equal(record.status, 'succeeded', String(record.lastError));
  const request = receiver.requests.find((r) => r.headers['x-event'] === event.id);
  assert.ok(request, 'the receiver got no request for the event');
  return request;
}

describe('webhook cache on a warm instance', () => {
  it('prepares a webhook version once for all its events, and sees an edit once the cache period ends', async () => {
    // Four templates: url, one query value, one header, the body.
    await h.setWebhook('acc_cache', 'wh_cache', {
      name: 'cached',
      events: ['call.created'],
      url: `${receiver.url}/v1/{{ data.n }}`,
      query: { n: '{{ data.n }}' },
      headers: { 'X-Event': '{{ event.id }}' },
      body: '{"version": 1, "n": {{ data.n }}}',
    });
    for (const n of [1, 2, 3]) {
      const request = await deliver(n);
      assert.equal(request.url, `/v1/${n}?n=${n}`);
      assert.deepEqual(JSON.parse(request.body), { version: 1, n });
    }
    assert.equal(prepared, 4, 'one version of four templates is prepared once, whatever the number of events');

    await h.setWebhook('acc_cache', 'wh_cache', {
      name: 'cached',
      events: ['call.created'],
      url: `${receiver.url}/v2/{{ data.n }}`,
      headers: { 'X-Event': '{{ event.id }}' },
      body: '{"version": 2, "n": {{ data.n }}}',
    });
    // Within the cache period the instance still sends the version it read (README: stale up to WEBHOOK_CACHE_SECONDS).
    assert.deepEqual(JSON.parse((await deliver(4)).body), { version: 1, n: 4 });
    assert.equal(prepared, 4);

    offsetMs += 61_000;
    const edited = await deliver(5);
    assert.equal(edited.url, '/v2/5');
    assert.deepEqual(JSON.parse(edited.body), { version: 2, n: 5 });
    assert.equal(prepared, 7, 'the edited version (three templates) is prepared once');
  });
});
