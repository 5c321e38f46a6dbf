import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deadLetterNotice, deadLetterSource, handleDeadLetter, MAX_EXCERPT_CHARS, safeExcerpt, type DeadLetterMessage } from '../../functions/src/events/dead-letters.ts';
import { parseEventMessage, type EventMessage } from '../../functions/src/events/event-message.ts';
import { MAX_REASON_CHARS, OPERATIONS_PUBLISH_FAILED } from '../../functions/src/events/operational-events.ts';
import { createMemoryLogger } from '../../functions/src/log/logger.ts';

const AT = new Date('2026-11-23T10:00:00.000Z');
const PUBLISHED = '2026-11-23T09:59:00.000Z';
/** What Pub/Sub adds to a message it dead-letters. */
const PUBSUB = {
  CloudPubSubDeadLetterSourceSubscription: 'eventarc-us-central1-hookshape-dispatch-sub-123',
  CloudPubSubDeadLetterSourceSubscriptionProject: 'prod-1',
  CloudPubSubDeadLetterSourceDeliveryCount: '5',
  CloudPubSubDeadLetterSourceTopicPublishTime: PUBLISHED,
};
const EVENT: EventMessage = { id: 'evt_1', type: 'call.created', accountId: 'acc_1', occurredAt: '2026-11-23T09:58:00Z', data: { call: { id: 'call_1' } } };

const letter = (data: string | object | undefined, attributes: Record<string, string>, messageId = '900'): DeadLetterMessage => ({
  messageId,
  data: data === undefined ? undefined : Buffer.from(typeof data === 'string' ? data : JSON.stringify(data)),
  attributes,
});

describe('deadLetterNotice', () => {
  const table: Array<{
    name: string;
    message: DeadLetterMessage;
    expected: { announce: true; id: string; accountId: string; event: Record<string, unknown>; deadLetter: Record<string, unknown>; reason: RegExp; portalPath: string } | { announce: false; why: string };
  }> = [
    {
      name: 'a readable event',
      message: letter(EVENT, { type: EVENT.type, accountId: EVENT.accountId, ...PUBSUB }),
      expected: { announce: true, id: 'dl:evt_1', accountId: 'acc_1', event: { id: 'evt_1', type: 'call.created', occurredAt: '2026-11-23T09:58:00Z' }, deadLetter: { messageId: '900', deliveryAttempts: 5, readable: true, excerpt: '' }, reason: /^the dispatcher could not dispatch the event in 5 deliveries; it is kept on the dead-letter topic$/, portalPath: '/portal#/events/evt_1' },
    },
    {
      name: 'an unreadable body (not JSON) whose attributes name the account',
      message: letter('call_1 ended, token=abc123 \u0000', { type: 'call.created', accountId: 'acc_1', ...PUBSUB }),
      expected: { announce: true, id: 'dl:msg:900', accountId: 'acc_1', event: { id: '', type: 'call.created', occurredAt: PUBLISHED }, deadLetter: { messageId: '900', deliveryAttempts: 5, readable: false, excerpt: 'call_1 ended, token=[redacted]' }, reason: /^the message could not be read as an event \(the message data is not UTF-8 JSON\) and was not handled in 5 deliveries/, portalPath: '/portal#/deliveries' },
    },
    {
      name: 'JSON that fails the schema: what it names is kept',
      message: letter({ id: 'evt_2', type: 'call.created', accountId: 'acc_1', occurredAt: 'yesterday', data: {} }, { ...PUBSUB }),
      expected: { announce: true, id: 'dl:evt_2', accountId: 'acc_1', event: { id: 'evt_2', type: 'call.created', occurredAt: PUBLISHED }, deadLetter: { messageId: '900', deliveryAttempts: 5, readable: false, excerpt: '{"id":"evt_2","type":"call.created","accountId":"acc_1","occurredAt":"yesterday","data":{}}' }, reason: /occurredAt: must be an ISO-8601 date-time/, portalPath: '/portal#/events/evt_2' },
    },
    {
      name: 'missing Pub/Sub attributes: what is known, 0 deliveries',
      message: letter(EVENT, {}),
      expected: { announce: true, id: 'dl:evt_1', accountId: 'acc_1', event: { id: 'evt_1', type: 'call.created', occurredAt: '2026-11-23T09:58:00Z' }, deadLetter: { messageId: '900', deliveryAttempts: 0, readable: true, excerpt: '' }, reason: /in every deliveries/, portalPath: '/portal#/events/evt_1' },
    },
    { name: 'a hookshape.* event (the operations push dead-letters here too)', message: letter({ ...EVENT, id: 'df:crm:evt_1', type: 'hookshape.delivery.failed' }, { type: 'hookshape.delivery.failed', accountId: 'acc_1', ...PUBSUB }), expected: { announce: false, why: 'operational_event' } },
    { name: 'a dead_lettered announcement itself', message: letter({ ...EVENT, id: 'dl:evt_1', type: 'hookshape.event.dead_lettered' }, { ...PUBSUB }), expected: { announce: false, why: 'operational_event' } },
    { name: 'an unreadable body with a hookshape.* type attribute', message: letter('{"truncated', { type: 'hookshape.webhook.invalid', accountId: 'acc_1', ...PUBSUB }), expected: { announce: false, why: 'operational_event' } },
    { name: 'an unreadable body and no attributes at all: no account to tell', message: letter('garbage', {}), expected: { announce: false, why: 'no_account' } },
    { name: 'no data at all, no account', message: letter(undefined, { ...PUBSUB }), expected: { announce: false, why: 'no_account' } },
    { name: 'data and attribute naming different accounts: neither is told', message: letter({ id: 'evt_3', accountId: 'acc_1' }, { accountId: 'acc_2', ...PUBSUB }), expected: { announce: false, why: 'no_account' } },
  ];

  for (const row of table) {
    it(row.name, () => {
      const notice = deadLetterNotice(row.message, AT);
      assert.equal(notice.announce, row.expected.announce);
      if (!row.expected.announce) {
        assert.equal((notice as { why: string }).why, row.expected.why);
        return;
      }
      assert.ok(notice.announce);
      const { event } = notice;
      assert.equal(event.id, row.expected.id);
      assert.equal(event.type, 'hookshape.event.dead_lettered');
      assert.equal(event.accountId, row.expected.accountId);
      assert.equal(event.occurredAt, AT.toISOString());
      const data = event.data as { event: unknown; deadLetter: unknown; reason: string; portalPath: string };
      assert.deepEqual(data.event, row.expected.event);
      assert.deepEqual(data.deadLetter, row.expected.deadLetter);
      assert.match(data.reason, row.expected.reason);
      assert.ok(data.reason.length <= MAX_REASON_CHARS);
      assert.equal(data.portalPath, row.expected.portalPath);
      const parsed = parseEventMessage(Buffer.from(JSON.stringify(event)), { type: event.type, accountId: event.accountId });
      assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
    });
  }

  it('the same event dead-lettered twice (other message ids, other counts) is the same announcement', () => {
    const first = deadLetterNotice(letter(EVENT, { ...PUBSUB }, '900'), AT);
    const second = deadLetterNotice(letter(EVENT, { ...PUBSUB, CloudPubSubDeadLetterSourceDeliveryCount: '7' }, '901'), new Date(AT.getTime() + 60_000));
    assert.ok(first.announce && second.announce);
    assert.equal(first.event.id, second.event.id);
    const unreadable = deadLetterNotice(letter('x', { accountId: 'acc_1' }, '902'), AT);
    assert.ok(unreadable.announce);
    assert.equal(unreadable.event.id, 'dl:msg:902', 'an unreadable one is known by its dead-letter message id');
  });

  it('an unreadable reason never quotes the data (JSON.parse would)', () => {
    const notice = deadLetterNotice(letter('{"password": "hunter2"', { accountId: 'acc_1' }), AT);
    assert.ok(notice.announce);
    assert.doesNotMatch(JSON.stringify(notice.event), /hunter2/);
  });
});

describe('deadLetterSource', () => {
  it('names the subscription with its project, reads the count and the publish time', () => {
    assert.deepEqual(deadLetterSource(PUBSUB), { subscription: 'projects/prod-1/subscriptions/eventarc-us-central1-hookshape-dispatch-sub-123', deliveryAttempts: 5, publishedAt: PUBLISHED });
  });
  it('takes a full subscription path as it is, and ignores what is not a count or a time', () => {
    assert.deepEqual(deadLetterSource({ CloudPubSubDeadLetterSourceSubscription: 'projects/p/subscriptions/s', CloudPubSubDeadLetterSourceDeliveryCount: 'five', CloudPubSubDeadLetterSourceTopicPublishTime: 'soon' }), { subscription: 'projects/p/subscriptions/s', deliveryAttempts: 0, publishedAt: null });
    assert.deepEqual(deadLetterSource({}), { subscription: null, deliveryAttempts: 0, publishedAt: null });
  });
});

describe('safeExcerpt', () => {
  const cases: Array<[string, string, string]> = [
    ['a JSON credential value', '{"user": "ann", "apiKey": "k-123", "nested": {"client_secret": "s3cr3t"}}', '{"user": "ann", "apiKey": "[redacted]", "nested": {"client_secret": "[redacted]"}}'],
    ['an unterminated JSON credential', '{"accessToken": "abcdef', '{"accessToken": "[redacted]"'],
    ['key=value credentials', 'user=ann&password=hunter2&x=1', 'user=ann&password=[redacted]&x=1'],
    ['bearer tokens and JWTs', 'Authorization: Bearer abc.def and eyJhbGciOi.eyJzdWIiOi.c2ln', 'Authorization: [redacted] and [redacted]'],
    ['signing secrets', 'secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', 'secret [redacted]'],
    ['control characters and whitespace', 'a\u0000\u0001b\n\n c', 'a b c'],
  ];
  for (const [name, input, expected] of cases) it(name, () => assert.equal(safeExcerpt(Buffer.from(input)), expected));

  it('is bounded', () => {
    const excerpt = safeExcerpt(Buffer.from('x'.repeat(10_000)));
    assert.equal(excerpt.length, MAX_EXCERPT_CHARS);
    assert.ok(excerpt.endsWith('…'));
  });
  it('is empty without data', () => assert.equal(safeExcerpt(undefined), ''));
});

describe('handleDeadLetter', () => {
  const deps = (publish: (event: EventMessage) => Promise<void>) => {
    const logger = createMemoryLogger();
    return { logger, deps: { logger, clock: { now: () => AT }, operations: { publish } } };
  };

  it('logs the dead letter in the original trace, then publishes one announcement', async () => {
    const published: EventMessage[] = [];
    const { logger, deps: d } = deps(async (event) => void published.push(event));
    const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const result = await handleDeadLetter(d, letter(EVENT, { type: EVENT.type, accountId: EVENT.accountId, traceparent, ...PUBSUB }));
    assert.equal(result.published, true);
    assert.deepEqual(published.map((e) => e.id), ['dl:evt_1']);
    const line = logger.entries.find((entry) => entry.deadLettered === true);
    assert.ok(line);
    assert.equal(line.severity, 'ERROR');
    assert.equal(line.traceId, '0af7651916cd43dd8448eb211c80319c');
    assert.deepEqual([line.messageId, line.eventId, line.accountId, line.deliveryAttempts, line.deadLetterSubscription, line.readable], ['900', 'evt_1', 'acc_1', 5, 'projects/prod-1/subscriptions/eventarc-us-central1-hookshape-dispatch-sub-123', true]);
    assert.equal(line.excerpt, undefined, 'a readable event is not excerpted into the log');
  });

  it('an unreadable message: the excerpt is logged and announced, redacted', async () => {
    const published: EventMessage[] = [];
    const { logger, deps: d } = deps(async (event) => void published.push(event));
    await handleDeadLetter(d, letter('not json; token=abc', { accountId: 'acc_1', ...PUBSUB }));
    const line = logger.entries.find((entry) => entry.deadLettered === true);
    assert.equal(line?.excerpt, 'not json; token=[redacted]');
    assert.equal(line?.readable, false);
    assert.equal((published[0]?.data as { deadLetter: { excerpt: string } }).deadLetter.excerpt, 'not json; token=[redacted]');
  });

  it('a hookshape.* event: logged, not published (no loops)', async () => {
    const published: EventMessage[] = [];
    const { logger, deps: d } = deps(async (event) => void published.push(event));
    const result = await handleDeadLetter(d, letter({ ...EVENT, id: 'dl:evt_1', type: 'hookshape.event.dead_lettered' }, { type: 'hookshape.event.dead_lettered', accountId: 'acc_1', ...PUBSUB }));
    assert.equal(result.published, false);
    assert.deepEqual(published, []);
    assert.ok(logger.entries.some((entry) => entry.announced === false && /no loops/.test(entry.message)));
  });

  it('a publish that fails is logged with operations_publish_failed and does not throw', async () => {
    const { logger, deps: d } = deps(async () => {
      throw Object.assign(new Error('5 NOT_FOUND: Topic not found'), { code: 5 });
    });
    const result = await handleDeadLetter(d, letter(EVENT, { ...PUBSUB }));
    assert.equal(result.published, false);
    const failed = logger.entries.find((entry) => entry.errorCode === OPERATIONS_PUBLISH_FAILED);
    assert.equal(failed?.operationalEventId, 'dl:evt_1');
  });
});
