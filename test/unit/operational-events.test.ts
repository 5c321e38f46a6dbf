import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GrpcStatus } from '../../functions/src/core/failures.ts';
import { EVENT_TYPES, OPERATIONAL_EVENT_TYPES, PLATFORM_EVENT_TYPES } from '../../functions/src/events/event-catalogue.ts';
import { parseEventMessage, type EventMessage } from '../../functions/src/events/event-message.ts';
import {
  announce,
  announcesFailureOf,
  deliveryFailedEvent,
  eventDeadLetteredEvent,
  isAboutWebhook,
  MAX_REASON_CHARS,
  OPERATIONS_PUBLISH_FAILED,
  operationalEventId,
  webhookDisabledEvent,
  webhookInvalidEvent,
} from '../../functions/src/events/operational-events.ts';
import { createMemoryLogger } from '../../functions/src/log/logger.ts';
import { ACCOUNT, event, response, webhookDocument, World } from './delivery-fakes.ts';

/** The world of the state machine's tests, with a publisher that records what it was given and when. */
class OpsWorld extends World {
  readonly published: Array<{ event: EventMessage; recordStatus: string | undefined }> = [];
  publishFails = false;

  override deps() {
    return {
      ...super.deps(),
      operations: {
        publish: async (message: EventMessage) => {
          if (this.publishFails) throw Object.assign(new Error('7 PERMISSION_DENIED: pubsub.topics.publish'), { code: GrpcStatus.PERMISSION_DENIED });
          const about = message.data as { webhook?: { id?: string }; event?: { id?: string } };
          const record = about.webhook?.id && about.event?.id ? this.deliveries.peek(this.key(about.webhook.id, about.event.id)) : undefined;
          this.published.push({ event: message, recordStatus: record?.status });
        },
      },
    };
  }
}

const failedEvent = (type: EventMessage['type'], id = 'evt-1'): EventMessage => ({ ...event(id), type });

describe('the no-loop rule', () => {
  const cases: Array<{ type: string; announces: boolean }> = [
    ...PLATFORM_EVENT_TYPES.map((type) => ({ type, announces: true })),
    ...OPERATIONAL_EVENT_TYPES.map((type) => ({ type, announces: false })),
  ];
  for (const { type, announces } of cases) {
    it(`a failed delivery of ${type} ${announces ? 'is' : 'is not'} announced`, () => assert.equal(announcesFailureOf(type), announces));
  }

  const about = deliveryFailedEvent({ accountId: ACCOUNT, webhookId: 'relay', webhookName: null, event: { id: 'evt-9', type: 'call.created', occurredAt: '2026-11-23T09:00:00Z' }, errorCode: 'http_error', lastError: 'HTTP 500', attempts: 1, createdAt: null, endedAt: new Date() });
  const table: Array<{ name: string; message: Pick<EventMessage, 'type' | 'data'>; webhookId: string; expected: boolean }> = [
    { name: 'an operational event about the webhook', message: about, webhookId: 'relay', expected: true },
    { name: 'an operational event about another webhook', message: about, webhookId: 'watch', expected: false },
    { name: 'a platform event whose data names the webhook', message: { type: 'call.created', data: { webhook: { id: 'relay' } } }, webhookId: 'relay', expected: false },
    { name: 'an operational event without a webhook', message: { type: 'hookshape.event.dead_lettered', data: {} }, webhookId: 'relay', expected: false },
  ];
  for (const row of table) it(`isAboutWebhook: ${row.name}`, () => assert.equal(isAboutWebhook(row.message, row.webhookId), row.expected));

  it('a delivery of hookshape.delivery.failed that fails for good announces nothing; one of call.created does, after its record is final', async () => {
    const world = new OpsWorld({ webhooks: [] });
    world.webhooks.set(ACCOUNT, 'relay', webhookDocument('relay', { events: ['call.created', 'hookshape.delivery.failed'] }));
    world.sender.respond = () => response(404);

    await world.publish(event('evt-1'));
    assert.equal(world.record('relay', 'evt-1').status, 'failed');
    assert.deepEqual(world.published.map(({ event: e, recordStatus }) => [e.type, e.id, recordStatus]), [['hookshape.delivery.failed', 'df:relay:evt-1', 'failed']], 'published after the record was written failed');

    // The relay is told of its own failure? No: an event about it never goes to it.
    const announced = world.published[0]!.event;
    const outcomes = await world.publish(announced);
    assert.ok(outcomes.acked);
    assert.equal(world.deliveries.peek(world.key('relay', announced.id)), undefined);

    // A failing delivery of an operational event (about some other webhook) announces nothing.
    const other = { ...announced, id: 'df:other:evt-2', data: { ...announced.data, webhook: { id: 'other', name: 'Other' } } };
    await world.publish(other);
    assert.equal(world.record('relay', other.id).status, 'failed');
    assert.equal(world.published.length, 1, 'no announcement of the failed notification');
    assert.ok(world.logger.entries.some((entry) => entry.announced === false && entry.webhookId === 'relay'));
  });

  it('a failure to publish is logged with its code and changes nothing of the delivery', async () => {
    const world = new OpsWorld({ webhooks: ['wh-a'] });
    world.publishFails = true;
    world.sender.respond = () => response(404);
    const published = await world.publish(failedEvent('call.created'));
    assert.ok(published.acked, 'the event is acknowledged: the delivery is recorded');
    assert.equal(world.record('wh-a').status, 'failed');
    const logged = world.logger.entries.find((entry) => entry.errorCode === OPERATIONS_PUBLISH_FAILED);
    assert.ok(logged, 'logged with operations_publish_failed');
    assert.equal(logged.operationalEventId, 'df:wh-a:evt-1');
  });
});

describe('announce', () => {
  it('gives up a publish that does not answer, without throwing', async () => {
    const logger = createMemoryLogger();
    const started = Date.now();
    const published = await announce({ publish: () => new Promise<void>(() => undefined) }, failedEvent('hookshape.webhook.invalid'), logger, 50);
    assert.equal(published, false);
    assert.ok(Date.now() - started < 1000);
    assert.match(String(logger.entries[0]?.message), /no answer within 50 ms/);
    assert.equal(logger.entries[0]?.errorCode, OPERATIONS_PUBLISH_FAILED);
  });

  it('without a publisher does nothing', async () => {
    assert.equal(await announce(undefined, failedEvent('hookshape.webhook.invalid'), createMemoryLogger()), false);
  });
});

describe('the messages', () => {
  const at = new Date('2026-11-23T10:00:00.000Z');
  const built: Array<[string, EventMessage]> = [
    ['delivery failed', deliveryFailedEvent({ accountId: 'acc_1', webhookId: 'crm', webhookName: 'CRM', event: { id: 'evt_1', type: 'call.created', occurredAt: '2026-11-23T09:00:00Z' }, errorCode: 'retries_exhausted', lastError: `HTTP 500 ${'x'.repeat(2000)}`, attempts: 4, createdAt: at, endedAt: at })],
    ['webhook disabled', webhookDisabledEvent({ accountId: 'acc_1', webhookId: 'crm', webhookName: null, at, consecutiveFailures: 15, reason: 'disabled automatically', eventId: 'evt_1', attempts: 4 })],
    ['webhook invalid', webhookInvalidEvent({ accountId: 'acc_1', webhookId: 'crm', webhookName: 'CRM', checkedAt: at, configHash: 'a'.repeat(32), errors: Array.from({ length: 20 }, (_, n) => ({ field: `headers.X-${n}`, message: 'y'.repeat(1000) })) })],
    ['event dead-lettered', eventDeadLetteredEvent({ event: { id: 'evt_1', type: 'call.created', accountId: 'acc_1', occurredAt: '2026-11-23T09:00:00Z' }, messageId: '42', deliveryAttempts: 5, at })],
  ];
  for (const [name, message] of built) {
    it(`${name}: a valid event message of the catalogue, with a bounded reason and a portal path`, () => {
      const parsed = parseEventMessage(Buffer.from(JSON.stringify(message)), { type: message.type, accountId: message.accountId });
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
      assert.ok((EVENT_TYPES as readonly string[]).includes(message.type));
      const data = message.data as { reason: string; portalPath: string };
      assert.ok(data.reason.length <= MAX_REASON_CHARS, `reason of ${data.reason.length} characters`);
      assert.match(data.portalPath, /^\/portal#\/(deliveries|webhooks|events)\//);
    });
  }

  it('webhook invalid keeps the first 10 errors, each bounded, and counts them all', () => {
    const data = built[2]![1].data as { validation: { errorCount: number; errors: Array<{ message: string }> } };
    assert.equal(data.validation.errorCount, 20);
    assert.equal(data.validation.errors.length, 10);
    assert.ok(data.validation.errors.every((issue) => issue.message.length <= 300));
  });

  const ids: Array<{ name: string; parts: string[]; expected: string | RegExp }> = [
    { name: 'readable when it fits', parts: ['crm', 'evt_1'], expected: 'df:crm:evt_1' },
    { name: 'hashed when too long for a document id', parts: ['w'.repeat(150), 'e'.repeat(150)], expected: /^df:[0-9a-f]{40}$/ },
    { name: 'hashed when a part holds the separator', parts: ['a:b', 'c'], expected: /^df:[0-9a-f]{40}$/ },
  ];
  for (const row of ids) {
    it(`operationalEventId: ${row.name}`, () => {
      const id = operationalEventId('df', row.parts);
      if (typeof row.expected === 'string') assert.equal(id, row.expected);
      else assert.match(id, row.expected);
      assert.equal(operationalEventId('df', row.parts), id, 'deterministic');
    });
  }

  it('operationalEventId: hashing keeps ambiguous pairs apart', () => {
    assert.notEqual(operationalEventId('df', ['a:b', 'c']), operationalEventId('df', ['a', 'b:c']));
  });
});
