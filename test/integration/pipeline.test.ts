import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

let h: Harness;
let receiver: Receiver;

before(async () => {
  [h, receiver] = await Promise.all([startHarness(), startReceiver()]);
});
after(async () => {
  await Promise.all([h.close(), receiver.close()]);
});

describe('an event becomes a request at the receiver', () => {
  it('delivers a templated JSON POST and logs it as succeeded', async () => {
    await h.setWebhook('acc_1', 'wh_json', {
      name: 'Airtable-style',
      events: ['call.created'],
      url: `${receiver.url}/v0/base/Calls`,
      headers: { Authorization: 'Bearer literal-token', 'X-Call': '{{ data.call.id }}' },
      body: '{"records":[{"fields":{"Call":"{{ data.call.id }}","Customer":"{{ data.customer.name }}"}}]}',
    });
    const event = eventOf('call.created', 'acc_1', { call: { id: 'call_9' }, customer: { name: 'José "Pepe" Muñoz' } });
    await h.publish(event);
    const record = await h.waitForDelivery('acc_1', 'wh_json', event.id);
    assert.equal(record.status, 'succeeded', JSON.stringify(record.lastError));
    const request = receiver.requests.find((r) => r.headers['x-call'] === 'call_9');
    assert.ok(request);
    assert.equal(request.method, 'POST');
    assert.equal(request.url, '/v0/base/Calls');
    assert.deepEqual(JSON.parse(request.body), { records: [{ fields: { Call: 'call_9', Customer: 'José "Pepe" Muñoz' } }] });
    assert.equal(record.attempts.length, 1);
    assert.equal(record.attempts[0]?.response?.status, 200);
    assert.equal(record.attempts[0]?.request.headers.Authorization, '[redacted]');
  });
});
