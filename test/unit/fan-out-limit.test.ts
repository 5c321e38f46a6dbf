/**
 * The fan-out limit: at most MAX_WEBHOOKS_PER_EVENT webhooks of one account are sent per event; the
 * rest are recorded as not sent, by name, so nobody wonders where they went.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError, DEFAULT_MAX_WEBHOOKS_PER_EVENT, loadConfig } from '../../functions/src/config/runtime-config.ts';
import { addressOf, event, World } from './delivery-fakes.ts';

test('MAX_WEBHOOKS_PER_EVENT: 50 by default, a whole number between 1 and 500 when set', () => {
  assert.equal(loadConfig({}).maxWebhooksPerEvent, DEFAULT_MAX_WEBHOOKS_PER_EVENT);
  assert.equal(DEFAULT_MAX_WEBHOOKS_PER_EVENT, 50);
  assert.equal(loadConfig({ MAX_WEBHOOKS_PER_EVENT: '100' }).maxWebhooksPerEvent, 100);
  for (const bad of ['0', '501', '2.5', 'many', '-1']) {
    assert.throws(() => loadConfig({ MAX_WEBHOOKS_PER_EVENT: bad }), (error: unknown) => error instanceof ConfigError && /MAX_WEBHOOKS_PER_EVENT/.test((error as Error).message), bad);
  }
});

test('webhooks beyond the limit are recorded as not sent (fan_out_limit), the others are delivered', async () => {
  const world = new World({ webhooks: ['wh-a', 'wh-b', 'wh-c', 'wh-d'], maxWebhooksPerEvent: 3 });
  const published = await world.publish(event('evt-fan'));
  assert.ok(published.acked);
  const sent = world.sender.requests.map((request) => addressOf(request).webhookId).sort();
  assert.equal(sent.length, 3);
  const records = [...world.deliveries.records.values()];
  assert.equal(records.length, 4, 'every webhook has a record, sent or not');
  const notSent = records.filter((record) => record.errorCode === 'fan_out_limit');
  assert.equal(notSent.length, 1);
  assert.ok(!sent.includes(notSent[0]!.webhookId), 'the webhook recorded as not sent got no request');
  assert.match(String(notSent[0]!.lastError), /more than 3 webhooks/);
});
