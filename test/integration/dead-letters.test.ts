/**
 * Dead-lettered events are announced, on the emulators, from the built bundle: deadLetterNotify behind
 * the events' dead-letter topic (push subscription without a dead-letter policy, as terraform/pubsub.tf
 * declares it) publishes one hookshape.event.dead_lettered to the operations topic (read here through a
 * pull subscription of its own, as an operator would), and the dispatcher delivers it to the account's
 * notification webhook, rendered by its template. The emulator does not apply dead-letter policies, so
 * the tests publish to the dead-letter topic what Pub/Sub forwards there: the original message with the
 * CloudPubSubDeadLetterSource* attributes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Message } from '@google-cloud/pubsub';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { watchOperationsTopic, type OperationsWatch } from '../support/operations-topic.ts';
import { until as waitFor } from '../support/until.ts';

let h: Harness;
let receiver: Receiver;
let operations: OperationsWatch;
/** The message ids of everything published to the dead-letter topic. */
const deadLetters: string[] = [];

before(async () => {
  [h, receiver] = await Promise.all([startHarness({ deadLetters: true }), startReceiver()]);
  operations = await watchOperationsTopic(h);
});
after(async () => {
  await operations?.close();
  await Promise.all([h?.close(), receiver?.close()]);
});

async function publishDeadLetter(data: string, attributes: Record<string, string>): Promise<string> {
  const id = await h.publishDeadLetter(data, attributes);
  deadLetters.push(id);
  return id;
}
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const requestsTo = (path: string) => receiver.requests.filter((request) => request.url === path);
const announced = (accountId: string) => operations.published.filter(({ event }) => event.accountId === accountId && event.type === 'hookshape.event.dead_lettered');

/** Waits, showing the functions' output when the time runs out. */
const until = <T>(what: string, read: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000) => waitFor(what, read, timeoutMs, () => h.output());

/** What Pub/Sub adds to a message it dead-letters from the dispatcher's subscription. */
const pubsubAttributes = (deliveryCount: number, publishTime = '2026-11-23T09:59:00.000Z') => ({
  CloudPubSubDeadLetterSourceSubscription: 'eventarc-us-central1-hookshape-dispatch-sub-123',
  CloudPubSubDeadLetterSourceSubscriptionProject: h.projectId,
  CloudPubSubDeadLetterSourceDeliveryCount: String(deliveryCount),
  CloudPubSubDeadLetterSourceTopicPublishTime: publishTime,
});

const NOTIFY_TEMPLATE = '{"text": "{{ data.event.type }} {{ data.event.id }} dead-lettered after {{ data.deadLetter.deliveryAttempts }} deliveries: {{ data.reason }}", "link": "https://hookshape.example{{ data.portalPath }}"}';

describe('dead-lettered events', () => {
  it('a dead-lettered event: one hookshape.event.dead_lettered on the operations topic, delivered to the notification webhook through its template, once', async () => {
    const account = 'acc_dl1';
    await h.setWebhook(account, 'ops', { name: 'Ops relay', events: ['hookshape.event.dead_lettered'], url: `${receiver.url}/ok/dl1`, body: NOTIFY_TEMPLATE });
    const event = eventOf('call.created', account, { call: { id: 'call_1' } });
    const messageId = await publishDeadLetter(JSON.stringify(event), { type: event.type, accountId: account, ...pubsubAttributes(5) });

    const [notification] = await until('the notification', () => (requestsTo('/ok/dl1').length > 0 ? requestsTo('/ok/dl1') : undefined));
    const reason = 'the dispatcher could not dispatch the event in 5 deliveries; it is kept on the dead-letter topic';
    assert.deepEqual(JSON.parse(notification!.body), { text: `call.created ${event.id} dead-lettered after 5 deliveries: ${reason}`, link: `https://hookshape.example/portal#/events/${event.id}` });

    const message = await until('the operations message', () => announced(account)[0]);
    assert.equal(message.event.id, `dl:${event.id}`, 'the id is derived from the dead event');
    assert.deepEqual(message.attributes, { type: 'hookshape.event.dead_lettered', accountId: account });
    assert.deepEqual(message.event.data, {
      event: { id: event.id, type: 'call.created', occurredAt: event.occurredAt },
      deadLetter: { messageId, deliveryAttempts: 5, readable: true, excerpt: '' },
      reason,
      portalPath: `/portal#/events/${event.id}`,
    });
    assert.equal((await h.waitForDelivery(account, 'ops', message.event.id)).status, 'succeeded');
    const line = await h.waitForLog((entry) => entry.function === 'deadLetterNotify' && entry.deadLettered === true && entry.eventId === event.id);
    assert.equal(line.deadLetterSubscription, `projects/${h.projectId}/subscriptions/eventarc-us-central1-hookshape-dispatch-sub-123`);
    await pause(1000);
    assert.equal(announced(account).length, 1, 'exactly one announcement');

    // Pub/Sub dead-letters on a best-effort basis: the same event again (another message, another count).
    await publishDeadLetter(JSON.stringify(event), { type: event.type, accountId: account, ...pubsubAttributes(6) });
    await until('the second announcement on the topic', () => (announced(account).length === 2 ? true : undefined));
    assert.equal(announced(account)[1]!.event.id, message.event.id, 'the same announcement');
    await h.waitForLog((entry) => entry.function === 'dispatchEvent' && entry.eventId === message.event.id && /already succeeded: not sent again/.test(entry.message));
    assert.equal(requestsTo('/ok/dl1').length, 1, 'the duplicate is not delivered again');
  });

  it('an unreadable dead letter is still announced, by its message id, with a redacted excerpt', async () => {
    const account = 'acc_dl2';
    await h.setWebhook(account, 'ops', { name: 'Ops relay', events: ['hookshape.event.dead_lettered'], url: `${receiver.url}/ok/dl2`, body: '{"text": "{{ data.deadLetter.messageId }} readable={{ data.deadLetter.readable }}: {{ data.deadLetter.excerpt }}"}' });
    const messageId = await publishDeadLetter('call_9 ended token=s3cr3t-value {', { type: 'call.created', accountId: account, ...pubsubAttributes(10) });

    const [notification] = await until('the notification', () => (requestsTo('/ok/dl2').length > 0 ? requestsTo('/ok/dl2') : undefined));
    assert.deepEqual(JSON.parse(notification!.body), { text: `${messageId} readable=false: call_9 ended token=[redacted] {` });
    const message = await until('the operations message', () => announced(account)[0]);
    assert.equal(message.event.id, `dl:msg:${messageId}`);
    assert.deepEqual((message.event.data as { event: unknown }).event, { id: '', type: 'call.created', occurredAt: '2026-11-23T09:59:00.000Z' });
    assert.match((message.event.data as { reason: string }).reason, /^the message could not be read as an event \(the message data is not UTF-8 JSON\)/);
    assert.doesNotMatch(JSON.stringify([message, h.logs.filter((entry) => entry.function === 'deadLetterNotify')]), /s3cr3t-value/, 'the credential is in neither the announcement nor the log');
  });

  it('a dead-lettered hookshape.* event announces nothing (no loops)', async () => {
    const account = 'acc_dl3';
    await h.setWebhook(account, 'ops', { name: 'Ops relay', events: ['hookshape.event.dead_lettered', 'hookshape.delivery.failed'], url: `${receiver.url}/ok/dl3`, body: NOTIFY_TEMPLATE });
    // What the operations topic's push subscription dead-letters when the dispatcher keeps failing.
    const failed = { ...eventOf('hookshape.delivery.failed', account, {}), id: 'df:crm:evt_x' };
    const dead = { ...eventOf('hookshape.event.dead_lettered', account, {}), id: 'dl:evt_y' };
    for (const event of [failed, dead]) await publishDeadLetter(JSON.stringify(event), { type: event.type, accountId: account, ...pubsubAttributes(5) });

    for (const event of [failed, dead]) {
      await h.waitForLog((entry) => entry.function === 'deadLetterNotify' && entry.eventId === event.id && entry.deadLettered === true);
    }
    await until('both no-loop lines', () => (h.logs.filter((entry) => entry.function === 'deadLetterNotify' && entry.announced === false && /no loops/.test(entry.message)).length >= 2 ? true : undefined));
    await pause(1500);
    assert.deepEqual(announced(account), []);
    assert.equal(requestsTo('/ok/dl3').length, 0);
  });

  it('the originals stay on the inspection subscription, for operators to read and re-publish', async () => {
    const seen = new Set<string>();
    const originals = h.pubsub.subscription(`${h.deadLetterTopic}-inspect`);
    originals.on('message', (message: Message) => {
      seen.add(message.id);
      message.nack();
    });
    try {
      await until('every dead letter on the inspection subscription', () => (deadLetters.every((id) => seen.has(id)) ? true : undefined));
    } finally {
      await originals.close();
    }
    assert.equal(deadLetters.length, 5);
  });
});
