/**
 * Operational events on the emulators, from the built bundle: a delivery that fails for good, a webhook
 * disabled automatically and a webhook document that becomes invalid are each published once to the
 * operations topic (read here through a pull subscription of its own, as an operator would), and the
 * operations topic's push subscription brings them to the dispatcher, which delivers them to the
 * account's webhooks subscribed to them, rendered by their templates. A notification webhook that fails
 * produces no further notification.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { webhookPath } from '../support/kit.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { watchOperationsTopic, type OperationsWatch } from '../support/operations-topic.ts';
import { until as waitFor } from '../support/until.ts';

let h: Harness;
let receiver: Receiver;
let operations: OperationsWatch;

before(async () => {
  // Two consecutive failed deliveries disable a webhook; a retry is 0.3 s later (delaysSeconds below).
  [h, receiver] = await Promise.all([startHarness({ env: { AUTO_DISABLE_AFTER_FAILURES: '2' } }), startReceiver()]);
  receiver.respond((request, res) => {
    const path = request.url.split('?')[0]!;
    res.statusCode = path.startsWith('/fail') ? 500 : path.startsWith('/gone') ? 404 : 200;
    res.end(`status ${res.statusCode}`);
  });
  operations = await watchOperationsTopic(h);
});
after(async () => {
  await operations?.close();
  await Promise.all([h.close(), receiver.close()]);
});

const FAST_RETRY = { delaysSeconds: [0.3] };
const requestsTo = (path: string) => receiver.requests.filter((request) => request.url === path);
const ofAccount = (accountId: string, type: string) => operations.published.filter(({ event }) => event.accountId === accountId && event.type === type);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Waits, showing the functions' output when the time runs out. */
const until = <T>(what: string, read: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000) => waitFor(what, read, timeoutMs, () => h.output());

/** A notification webhook rendering the failure with a Liquid template into a Slack-style JSON message. */
const NOTIFY_TEMPLATE = '{"text": "{{ data.webhook.name }}: {{ data.event.type }} {{ data.event.id }} failed after {{ data.delivery.attempts }} attempts ({{ data.delivery.errorCode }}): {{ data.reason }}", "link": "https://hookshape.example{{ data.portalPath }}"}';

describe('operational events', () => {
  it('a delivery that fails for good: one hookshape.delivery.failed on the operations topic, delivered to the notification webhook through its template', async () => {
    const account = 'acc_ops1';
    await h.setWebhook(account, 'crm', { name: 'CRM calls', events: ['call.created'], url: `${receiver.url}/fail/crm`, retry: FAST_RETRY, timeoutSeconds: 10 });
    await h.setWebhook(account, 'slack', { name: 'Slack relay', events: ['hookshape.delivery.failed'], url: `${receiver.url}/ok/slack`, body: NOTIFY_TEMPLATE });
    const event = eventOf('call.created', account, { n: 1 });
    await h.publish(event);

    const failed = await h.waitForDelivery(account, 'crm', event.id, undefined, 30_000);
    assert.equal(failed.status, 'failed');
    assert.equal(failed.attempts.length, 2);

    const [notification] = await until('the notification', () => (requestsTo('/ok/slack').length > 0 ? requestsTo('/ok/slack') : undefined));
    assert.deepEqual(JSON.parse(notification!.body), {
      text: `CRM calls: call.created ${event.id} failed after 2 attempts (retries_exhausted): HTTP 500`,
      link: `https://hookshape.example/portal#/deliveries/crm/${event.id}`,
    });

    const [message] = await until('the operations message', () => (ofAccount(account, 'hookshape.delivery.failed').length > 0 ? ofAccount(account, 'hookshape.delivery.failed') : undefined));
    assert.equal(message!.event.id, `df:crm:${event.id}`, 'the event id is derived from the delivery id');
    assert.deepEqual(message!.attributes, { type: 'hookshape.delivery.failed', accountId: account });
    assert.deepEqual(message!.event.data, {
      delivery: { id: `crm/${event.id}`, status: 'failed', errorCode: 'retries_exhausted', attempts: 2, createdAt: failed.createdAt.toISOString(), endedAt: failed.updatedAt.toISOString() },
      webhook: { id: 'crm', name: 'CRM calls' },
      event: { id: event.id, type: 'call.created', occurredAt: event.occurredAt },
      reason: 'HTTP 500',
      portalPath: `/portal#/deliveries/crm/${event.id}`,
    });
    const notified = await h.waitForDelivery(account, 'slack', message!.event.id);
    assert.equal(notified.status, 'succeeded');

    // A second publish of the same fact is the same event: the delivery record dedupes it.
    await h.pubsub.topic(h.operationsTopic).publishMessage({ json: message!.event, attributes: message!.attributes });
    await until('the duplicate on the topic', () => (ofAccount(account, 'hookshape.delivery.failed').length === 2 ? true : undefined));
    await h.waitForLog((entry) => entry.function === 'dispatchEvent' && entry.eventId === message!.event.id && /already succeeded: not sent again/.test(entry.message));
    assert.equal(requestsTo('/ok/slack').length, 1, 'the duplicate is not sent again');
  });

  it('a notification webhook that itself fails produces no further notification', async () => {
    const account = 'acc_ops2';
    await h.setWebhook(account, 'crm', { name: 'CRM calls', events: ['call.created'], url: `${receiver.url}/fail/crm2`, retry: FAST_RETRY, timeoutSeconds: 10 });
    // The relay is down too; a second relay that works shows what was announced.
    await h.setWebhook(account, 'relay', { name: 'Broken relay', events: ['hookshape.delivery.failed'], url: `${receiver.url}/fail/relay`, retry: FAST_RETRY, body: NOTIFY_TEMPLATE, timeoutSeconds: 10 });
    await h.setWebhook(account, 'watch', { name: 'Watcher', events: ['hookshape.delivery.failed'], url: `${receiver.url}/ok/watch`, body: NOTIFY_TEMPLATE });
    const event = eventOf('call.created', account, { n: 2 });
    await h.publish(event);

    assert.equal((await h.waitForDelivery(account, 'crm', event.id, undefined, 30_000)).status, 'failed');
    const announced = await until('the announcement', () => ofAccount(account, 'hookshape.delivery.failed')[0]);
    const relayed = await h.waitForDelivery(account, 'relay', announced.event.id, undefined, 30_000);
    assert.equal(relayed.status, 'failed', "the relay's own delivery failed for good");
    assert.equal(relayed.attempts.length, 2);
    await h.waitForLog((entry) => entry.webhookId === 'relay' && entry.announced === false && /not announced \(no loops\)/.test(entry.message));
    assert.equal((await h.waitForDelivery(account, 'watch', announced.event.id)).status, 'succeeded');

    await pause(2000); // time for a wrong second announcement to arrive
    assert.deepEqual(ofAccount(account, 'hookshape.delivery.failed').map(({ event: e }) => e.id), [`df:crm:${event.id}`], 'only the failure of the platform event was announced');
    assert.equal(requestsTo('/ok/watch').length, 1, 'the watcher heard of one failure: not of the relay’s');
    assert.equal(requestsTo('/fail/relay').length, 2, 'the relay got the first announcement (and its retry) only');
  });

  it('a webhook disabled automatically: hookshape.webhook.disabled, delivered to the subscribed webhook and never to the disabled one', async () => {
    const account = 'acc_ops3';
    // `dying` also subscribes to webhook.disabled: it must not be told of its own disabling.
    await h.setWebhook(account, 'dying', { name: 'Dying', events: ['call.created', 'hookshape.webhook.disabled'], url: `${receiver.url}/gone/dying` });
    await h.setWebhook(account, 'ops', { name: 'Ops', events: ['hookshape.webhook.disabled'], url: `${receiver.url}/ok/ops3`, body: '{"text": "{{ data.webhook.id }} off after {{ data.disabled.consecutiveFailures }}: {{ data.reason }}", "link": "{{ data.portalPath }}"}' });
    const first = eventOf('call.created', account, { n: 1 });
    await h.publish(first);
    await h.waitForDelivery(account, 'dying', first.id);
    // The count is written just after the record; the next delivery reads it with the webhook.
    await until('the failure count', async () => ((await h.db.doc(webhookPath(account, 'dying')).get()).get('health.consecutiveFailures') === 1 ? true : undefined));
    const second = eventOf('call.created', account, { n: 2 });
    await h.publish(second);
    await h.waitForDelivery(account, 'dying', second.id);

    const [notice] = await until('the notice', () => (requestsTo('/ok/ops3').length > 0 ? requestsTo('/ok/ops3') : undefined));
    const reason = `disabled automatically after 2 consecutive failed deliveries; the last (event ${second.id}): HTTP 404`;
    assert.deepEqual(JSON.parse(notice!.body), { text: `dying off after 2: ${reason}`, link: '/portal#/webhooks/dying' });
    // The notice came by the push subscription; the test's own pull subscription may see the message later.
    const messages = await until('the announcement on the operations topic', () => (ofAccount(account, 'hookshape.webhook.disabled').length > 0 ? ofAccount(account, 'hookshape.webhook.disabled') : undefined));
    const stored = (await h.db.doc(webhookPath(account, 'dying')).get()).data() as { disabled: { at: { toDate(): Date } } };
    const at = stored.disabled.at.toDate();
    assert.equal(messages[0]!.event.id, `wd:dying:${at.getTime()}`);
    assert.deepEqual(messages[0]!.event.data, {
      webhook: { id: 'dying', name: 'Dying' },
      disabled: { at: at.toISOString(), consecutiveFailures: 2 },
      delivery: { id: `dying/${second.id}`, attempts: 1 },
      reason,
      portalPath: '/portal#/webhooks/dying',
    });
    // Both 404 deliveries failed for good (announced too: the second after the disable's announcement); the
    // disabled webhook got nothing after them, and nothing was announced twice.
    await until('both failures announced', () => (ofAccount(account, 'hookshape.delivery.failed').length >= 2 ? true : undefined));
    await pause(1000);
    assert.equal(ofAccount(account, 'hookshape.delivery.failed').length, 2);
    assert.equal(ofAccount(account, 'hookshape.webhook.disabled').length, 1);
    assert.equal(requestsTo('/gone/dying').length, 2);
    assert.equal(await h.delivery(account, 'dying', messages[0]!.event.id), undefined);
  });

  it('a webhook document that becomes invalid: hookshape.webhook.invalid once per invalid configuration', async () => {
    const account = 'acc_ops4';
    await h.setWebhook(account, 'ops', { name: 'Ops', events: ['hookshape.webhook.invalid'], url: `${receiver.url}/ok/ops4`, body: '{"text": "{{ data.webhook.name }} is invalid ({{ data.validation.errorCount }}): {{ data.validation.errors[0].field }}"}' });
    assert.equal(await h.validate(account, 'ops'), 204);
    await h.setWebhook(account, 'typo', { name: 'Typo', events: ['call.created'], url: `${receiver.url}/ok/typo`, body: '{"id": "{{ data.call.id | upcase2 }}"}' });
    assert.equal(await h.validate(account, 'typo'), 204);

    const [notice] = await until('the notice', () => (requestsTo('/ok/ops4').length > 0 ? requestsTo('/ok/ops4') : undefined));
    assert.deepEqual(JSON.parse(notice!.body), { text: 'Typo is invalid (1): body' });
    const messages = await until('the announcement on the operations topic', () => (ofAccount(account, 'hookshape.webhook.invalid').length > 0 ? ofAccount(account, 'hookshape.webhook.invalid') : undefined));
    assert.equal(messages.length, 1);
    const data = messages[0]!.event.data as { webhook: unknown; validation: { errorCount: number; errors: Array<{ field: string; message: string }> }; reason: string; portalPath: string };
    assert.deepEqual(data.webhook, { id: 'typo', name: 'Typo' });
    assert.equal(data.validation.errorCount, 1);
    assert.equal(data.validation.errors[0]!.field, 'body');
    assert.match(data.validation.errors[0]!.message, /upcase2/);
    assert.equal(data.portalPath, '/portal#/webhooks/typo');
    assert.match(messages[0]!.event.id, /^wi:typo:[0-9a-f]{32}$/);

    // The trigger runs again (its own write, a write of `health`): same configuration, nothing new.
    assert.equal(await h.validate(account, 'typo'), 204);
    await pause(1500);
    assert.equal(ofAccount(account, 'hookshape.webhook.invalid').length, 1);
    assert.equal(requestsTo('/ok/ops4').length, 1);
  });
});
