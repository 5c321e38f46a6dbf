/**
 * A signing secret stored under a name instances already hold (a rotation under the same name, after a
 * leak) reaches them through the webhook's signingSecretSetAt: every caller of the secret store passes
 * it, and the store reads again when its copy is older (secret-manager-store.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseWebhookConfig, secretsChangedAt } from '../../functions/src/webhooks/webhook-config.ts';
import { ACCOUNT, event, response, webhookDocument, World } from './delivery-fakes.ts';

/** How Firestore hands a stored Date back to the dispatcher. */
const timestamp = (date: Date) => ({ toDate: () => date, seconds: Math.floor(date.getTime() / 1000), nanoseconds: 0 });

describe('signingSecretSetAt', () => {
  it('parses from a Firestore Timestamp, a Date or an ISO text; anything else (a console edit gone wrong) is none, and the webhook stays valid', () => {
    const at = new Date('2026-12-07T10:00:00.000Z');
    for (const value of [timestamp(at), at, at.toISOString()]) {
      const parsed = parseWebhookConfig(ACCOUNT, 'wh', webhookDocument('wh', { signingSecretSetAt: value }));
      assert.ok(parsed.ok);
      assert.deepEqual(parsed.webhook.signingSecretSetAt, at);
    }
    for (const value of ['yesterday', 42, { seconds: 'x' }, null]) {
      const parsed = parseWebhookConfig(ACCOUNT, 'wh', webhookDocument('wh', { signingSecretSetAt: value }));
      assert.ok(parsed.ok, JSON.stringify(value));
      assert.equal(parsed.webhook.signingSecretSetAt, undefined);
    }
  });

  it('secretsChangedAt: the latest of the webhooks given, none when none has one', () => {
    const config = (fields: Record<string, unknown>) => {
      const parsed = parseWebhookConfig(ACCOUNT, 'wh', webhookDocument('wh', fields));
      assert.ok(parsed.ok);
      return parsed.webhook;
    };
    const early = new Date('2026-12-01T00:00:00Z');
    const late = new Date('2026-12-07T00:00:00Z');
    assert.deepEqual(secretsChangedAt([config({ signingSecretSetAt: early }), config({}), config({ signingSecretSetAt: late })]), late);
    assert.equal(secretsChangedAt([config({}), config({})]), undefined);
  });

  it('the dispatcher asks for the secrets with the latest stamp of the webhooks it sends to, the retry worker with its webhook\'s', async () => {
    const world = new World({ webhooks: ['wh-a', 'wh-b'] });
    const early = new Date('2026-12-01T00:00:00Z');
    const late = new Date('2026-12-07T00:00:00Z');
    world.webhooks.set(ACCOUNT, 'wh-a', webhookDocument('wh-a', { signingSecretSetAt: timestamp(late) }));
    world.webhooks.set(ACCOUNT, 'wh-b', webhookDocument('wh-b', { signingSecretSetAt: timestamp(early) }));
    world.sender.respond = (request, previous) => (request.url.includes('/wh-b/') && previous < 1 ? response(500) : response(200));
    await world.publish(event());
    assert.deepEqual(world.secrets.asked.map(({ changedAt }) => changedAt), [late]);
    await world.drainTasks();
    assert.equal(world.record('wh-b').status, 'succeeded');
    assert.deepEqual(world.secrets.asked.slice(1).map(({ changedAt }) => changedAt), [early], "the retry of wh-b, with wh-b's stamp");
  });
});
