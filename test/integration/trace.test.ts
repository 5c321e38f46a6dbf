/**
 * The trace of a delivery through the built functions (harness: build/functions, emulators, Cloud
 * Tasks emulator): a `traceparent` attribute on the published message becomes the record's traceId,
 * the `traceparent` header of every attempt (when the webhook asks for it, a span per attempt), and the
 * logging.googleapis.com/trace field of every log line the dispatcher and the retry worker write for it.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eventOf, startHarness, type Harness, type LogEntry } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

/**
 * The W3C traceparent header read by the test itself (version 00, 32 + 16 lowercase hex, flags), not by
 * the code under test: a defect of the production parser must not also pass here.
 */
function parseTraceparent(header: unknown): { traceId: string; spanId: string } | undefined {
  const match = typeof header === 'string' ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(header) : null;
  if (!match || /^0+$/.test(match[1]!) || /^0+$/.test(match[2]!)) return undefined;
  return { traceId: match[1]!, spanId: match[2]! };
}

const ACCOUNT = 'acc_trace';
const TRACE_FIELD = 'logging.googleapis.com/trace';
const SPAN_FIELD = 'logging.googleapis.com/spanId';

let h: Harness;
let receiver: Receiver;

before(async () => {
  [h, receiver] = await Promise.all([startHarness(), startReceiver()]);
  const queues = new Map<string, number[]>([['/traced', [500]]]);
  receiver.respond((request, res) => {
    res.statusCode = queues.get(request.url)?.shift() ?? 200;
    res.end('ok');
  });
});
after(async () => {
  await Promise.all([h.close(), receiver.close()]);
});

const newTraceId = () => randomBytes(16).toString('hex');
const linesOf = (deliveryId: string): LogEntry[] => h.logs.filter((entry) => entry['deliveryId'] === deliveryId);

async function publish(id: string, fields: Record<string, unknown>, attributes: Record<string, string>) {
  await h.setWebhook(ACCOUNT, id, { name: id, events: ['call.created'], url: `${receiver.url}/${id}`, timeoutSeconds: 2, ...fields });
  const event = eventOf('call.created', ACCOUNT, { call: { id: 'c1' } });
  await h.publish(event, { type: event.type, accountId: event.accountId, ...attributes });
  return event;
}

describe('one trace id from the publisher to the receiver (built functions)', () => {
  it('traceparent attribute → record.traceId, a header per attempt, every log line of the dispatcher and the retry worker', async () => {
    const traceId = newTraceId();
    const publisherSpan = randomBytes(8).toString('hex');
    const event = await publish('traced', { traceparent: true }, { traceparent: `00-${traceId}-${publisherSpan}-01` });
    const record = await h.waitForDelivery(ACCOUNT, 'traced', event.id, undefined, 30_000);
    assert.equal(record.status, 'succeeded', String(record.lastError));
    assert.equal(record.attempts.length, 2, 'a 500, then the retry through Cloud Tasks');
    assert.equal(record.traceId, traceId);

    const received = receiver.requests.filter((request) => request.url === '/traced').map((request) => parseTraceparent(request.headers['traceparent']));
    assert.equal(received.length, 2);
    assert.deepEqual(received.map((context) => context?.traceId), [traceId, traceId], 'the retry keeps the trace id');
    assert.notEqual(received[0]!.spanId, received[1]!.spanId, 'a span per attempt');
    assert.ok(received.every((context) => context!.spanId !== publisherSpan), "the publisher's span is the parent");

    // Log lines are read from the processes' stdout: wait for the worker's attempt line.
    await h.waitForLog((entry) => entry.function === 'retryWorker' && entry['deliveryId'] === `traced/${event.id}` && entry['attempt'] === 2 && typeof entry['durationMs'] === 'number');
    const lines = linesOf(`traced/${event.id}`);
    assert.ok(lines.some((line) => line.function === 'dispatchEvent') && lines.some((line) => line.function === 'retryWorker'), 'lines of both functions');
    for (const line of lines) {
      assert.equal(line[TRACE_FIELD], `projects/${h.projectId}/traces/${traceId}`, `${line.function}: ${line.message}`);
      assert.match(String(line[SPAN_FIELD]), /^[0-9a-f]{16}$/, `${line.function}: ${line.message}`);
      assert.equal(line['eventId'], event.id);
      assert.equal(line['webhookId'], 'traced');
    }
    const attemptSpans = lines.filter((line) => typeof line['durationMs'] === 'number').map((line) => line[SPAN_FIELD]);
    assert.deepEqual(attemptSpans, received.map((context) => context!.spanId), "each attempt's log line carries the span the receiver got");
    const received1 = h.logs.find((entry) => entry.function === 'dispatchEvent' && entry['eventId'] === event.id && String(entry.message).startsWith('event received'));
    assert.equal(received1?.[TRACE_FIELD], `projects/${h.projectId}/traces/${traceId}`, "the dispatcher's event line too");
  });

  it("googclient_traceparent (the Pub/Sub client's OpenTelemetry) is read as well; no header unless traceparent: true", async () => {
    const traceId = newTraceId();
    const event = await publish('untraced', {}, { googclient_traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01` });
    const record = await h.waitForDelivery(ACCOUNT, 'untraced', event.id);
    assert.equal(record.status, 'succeeded');
    assert.equal(record.traceId, traceId);
    const request = receiver.requests.find((r) => r.url === '/untraced');
    assert.equal(request?.headers['traceparent'], undefined);
  });

  it('a malformed traceparent: a new trace id, a warning, and the event delivered', async () => {
    const event = await publish('malformed', { traceparent: true }, { traceparent: 'not-a-traceparent' });
    const record = await h.waitForDelivery(ACCOUNT, 'malformed', event.id);
    assert.equal(record.status, 'succeeded');
    assert.match(String(record.traceId), /^[0-9a-f]{32}$/);
    assert.equal(parseTraceparent(receiver.requests.find((r) => r.url === '/malformed')?.headers['traceparent'])?.traceId, record.traceId);
    const warning = await h.waitForLog((entry) => entry.function === 'dispatchEvent' && entry['traceparentInvalid'] === 'not-a-traceparent');
    assert.equal(warning.severity, 'WARNING');
    assert.equal(warning[TRACE_FIELD], `projects/${h.projectId}/traces/${record.traceId}`);
  });
});
