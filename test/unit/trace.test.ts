/**
 * Trace context (functions/src/log/trace.ts): the W3C traceparent parser as a table, the attribute a
 * message's trace comes from, the JSON logger's Cloud Logging fields, and the trace kept through the
 * state machine on the in-memory world: dispatch, attempts, retry tasks, the worker, the repair sweep.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createJsonLogger, SPAN_ID_FIELD, TRACE_FIELD, TRACE_SAMPLED_FIELD } from '../../functions/src/log/logger.ts';
import { formatTraceparent, parseTraceparent, traceFromAttributes } from '../../functions/src/log/trace.ts';
import { parseRetryTask } from '../../functions/src/retry/handle-retry-task.ts';
import { ACCOUNT, event, response, webhookDocument, World } from './delivery-fakes.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';
const VALID = `00-${TRACE}-${SPAN}-01`;

describe('parseTraceparent', () => {
  const cases: Array<{ name: string; input: unknown; expected: { traceId: string; spanId: string; sampled: boolean } | undefined }> = [
    { name: 'the spec example', input: VALID, expected: { traceId: TRACE, spanId: SPAN, sampled: true } },
    { name: 'not sampled', input: `00-${TRACE}-${SPAN}-00`, expected: { traceId: TRACE, spanId: SPAN, sampled: false } },
    { name: 'other flag bits are ignored', input: `00-${TRACE}-${SPAN}-03`, expected: { traceId: TRACE, spanId: SPAN, sampled: true } },
    { name: 'a later version may add fields', input: `01-${TRACE}-${SPAN}-01-what-comes-next`, expected: { traceId: TRACE, spanId: SPAN, sampled: true } },
    { name: 'surrounding spaces', input: ` ${VALID} `, expected: { traceId: TRACE, spanId: SPAN, sampled: true } },
    { name: 'version 00 with an extra field', input: `${VALID}-extra`, expected: undefined },
    { name: 'version ff', input: `ff-${TRACE}-${SPAN}-01`, expected: undefined },
    { name: 'upper-case hex', input: VALID.toUpperCase(), expected: undefined },
    { name: 'all-zero trace id', input: `00-${'0'.repeat(32)}-${SPAN}-01`, expected: undefined },
    { name: 'all-zero span id', input: `00-${TRACE}-${'0'.repeat(16)}-01`, expected: undefined },
    { name: 'short trace id', input: `00-${TRACE.slice(1)}-${SPAN}-01`, expected: undefined },
    { name: 'long span id', input: `00-${TRACE}-${SPAN}0-01`, expected: undefined },
    { name: 'flags not hex', input: `00-${TRACE}-${SPAN}-zz`, expected: undefined },
    { name: 'a Cloud Trace header instead', input: `${TRACE}/1;o=1`, expected: undefined },
    { name: 'empty', input: '', expected: undefined },
    { name: 'not a string', input: 42, expected: undefined },
    { name: 'absurdly long', input: `${VALID}${'-a'.repeat(1000)}`, expected: undefined },
  ];
  for (const { name, input, expected } of cases) {
    it(name, () => assert.deepEqual(parseTraceparent(input), expected));
  }

  it('formats what it parses', () => {
    assert.equal(formatTraceparent(parseTraceparent(VALID)!), VALID);
  });
});

describe('the trace of a message', () => {
  const cases: Array<{ name: string; attributes: Record<string, string>; source: string; traceId?: string }> = [
    { name: 'traceparent', attributes: { traceparent: VALID }, source: 'message', traceId: TRACE },
    { name: "googclient_traceparent (the Pub/Sub client's OpenTelemetry)", attributes: { googclient_traceparent: VALID }, source: 'message', traceId: TRACE },
    { name: 'traceparent first when both are set', attributes: { traceparent: VALID, googclient_traceparent: `00-${'a'.repeat(32)}-${SPAN}-01` }, source: 'message', traceId: TRACE },
    { name: 'a malformed traceparent, a valid googclient_traceparent', attributes: { traceparent: 'nonsense', googclient_traceparent: VALID }, source: 'message', traceId: TRACE },
    { name: 'none: a new trace', attributes: { type: 'call.created' }, source: 'new' },
    { name: 'malformed: a new trace', attributes: { traceparent: 'nonsense' }, source: 'invalid' },
  ];
  for (const { name, attributes, source, traceId } of cases) {
    it(name, () => {
      const trace = traceFromAttributes(attributes);
      assert.equal(trace.source, source);
      assert.ok(parseTraceparent(formatTraceparent(trace.context)), 'always a valid context');
      if (traceId) assert.equal(trace.context.traceId, traceId);
      else assert.notEqual(trace.context.traceId, TRACE);
    });
  }

  it('new traces differ', () => {
    assert.notEqual(traceFromAttributes({}).context.traceId, traceFromAttributes({}).context.traceId);
  });
});

describe('the JSON logger writes the trace as Cloud Logging reads it', () => {
  it('logging.googleapis.com/trace, spanId and trace_sampled, with the project; traceId stays in the payload', () => {
    const lines: string[] = [];
    const logger = createJsonLogger((line) => lines.push(line), {}, { projectId: 'my-project' }).child({ traceId: TRACE, spanId: SPAN, traceSampled: true, eventId: 'evt-1' });
    logger.log('INFO', 'one');
    logger.child({ spanId: 'b7ad6b7169203331' }).log('INFO', 'two');
    const [one, two] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(one![TRACE_FIELD], `projects/my-project/traces/${TRACE}`);
    assert.equal(one![SPAN_ID_FIELD], SPAN);
    assert.equal(one![TRACE_SAMPLED_FIELD], true);
    assert.equal(one!['traceId'], TRACE);
    assert.equal(one!['eventId'], 'evt-1');
    assert.equal(one!['spanId'], undefined, 'only the special field');
    assert.equal(two![SPAN_ID_FIELD], 'b7ad6b7169203331', 'a child span overrides');
  });

  it('a line without a trace has no trace fields', () => {
    const lines: string[] = [];
    createJsonLogger((line) => lines.push(line), {}, { projectId: 'p' }).log('INFO', 'plain');
    assert.equal(Object.keys(JSON.parse(lines[0]!) as object).some((key) => key.startsWith('logging.googleapis.com/')), false);
  });
});

describe('retry task payload', () => {
  const base = { accountId: 'a', webhookId: 'w', eventId: 'e', attempt: 2 };
  it('keeps a traceparent', () => {
    assert.deepEqual(parseRetryTask({ ...base, traceparent: VALID }), { ok: true, task: { ...base, traceparent: VALID } });
  });
  it('a task without one parses as before', () => {
    assert.deepEqual(parseRetryTask(base), { ok: true, task: base });
  });
  it('a malformed traceparent never refuses the task', () => {
    assert.equal(parseRetryTask({ ...base, traceparent: 12 }).ok, true);
    assert.equal(parseRetryTask({ ...base, traceparent: 'x'.repeat(10_000) }).ok, true);
  });
});

describe('one trace through the state machine', () => {
  const linesOf = (world: World, webhookId: string) => world.logger.entries.filter((entry) => entry['deliveryId'] === `${webhookId}/evt-1`);

  it("the publisher's trace is the record's, every line's, every attempt's and every retry task's", async () => {
    const world = new World({ webhooks: ['wh-a'] });
    world.webhooks.set(ACCOUNT, 'wh-a', webhookDocument('wh-a', { traceparent: true }));
    world.sender.respond = (_request, previous) => response(previous === 0 ? 503 : 200);
    await world.publish(event(), { traceparent: VALID });
    const retrying = world.record('wh-a');
    assert.equal(retrying.status, 'retrying');
    assert.equal(retrying.traceId, TRACE);
    const [task] = world.scheduler.of('wh-a');
    assert.equal(parseTraceparent(task!.task.traceparent)?.traceId, TRACE, 'the retry task carries the trace');
    await world.drainTasks();
    const done = world.record('wh-a');
    assert.equal(done.status, 'succeeded');
    assert.equal(done.traceId, TRACE);

    const lines = linesOf(world, 'wh-a');
    assert.ok(lines.length >= 4, `lines of the delivery: ${lines.length}`);
    for (const line of lines) {
      assert.equal(line['traceId'], TRACE, `line without the trace: ${line.message}`);
      assert.match(String(line['spanId']), /^[0-9a-f]{16}$/, `line without a span: ${line.message}`);
      assert.equal(line['eventId'], 'evt-1');
      assert.equal(line['webhookId'], 'wh-a');
    }
    const attempts = lines.filter((line) => typeof line['attempt'] === 'number' && typeof line['durationMs'] === 'number');
    assert.equal(attempts.length, 2);
    const runSpans = new Set(lines.filter((line) => !attempts.includes(line)).map((line) => line['spanId']));
    for (const line of attempts) assert.ok(!runSpans.has(line['spanId']), 'an attempt is a span of its own, a child of its run');
    // The receiver got the trace, each attempt with its own span: the one its log lines carry.
    const sent = world.sender.requests.map((request) => parseTraceparent(request.headers['traceparent']));
    assert.deepEqual(sent.map((context) => context?.traceId), [TRACE, TRACE]);
    assert.deepEqual(sent.map((context) => context?.spanId), attempts.map((line) => line['spanId']));
    assert.notEqual(sent[0]!.spanId, sent[1]!.spanId);
    assert.ok(!sent.some((context) => context?.spanId === SPAN), "the publisher's span is the parent, never reused");
    assert.equal(done.attempts[0]!.request?.headers['traceparent'], world.sender.requests[0]!.headers['traceparent'], 'the record shows the header sent');
  });

  it('no traceparent header unless the webhook asks for it; the trace is kept all the same', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    await world.publish(event(), { googclient_traceparent: VALID });
    assert.equal(world.record('wh-a').traceId, TRACE);
    assert.equal(Object.keys(world.sender.requests[0]!.headers).some((name) => name.toLowerCase() === 'traceparent'), false);
  });

  it("the webhook's own traceparent header gives way to the attempt's when traceparent is true", async () => {
    const world = new World({ webhooks: ['wh-a'] });
    world.webhooks.set(ACCOUNT, 'wh-a', webhookDocument('wh-a', { traceparent: true, headers: { TraceParent: 'mine' } }));
    await world.publish(event(), { traceparent: VALID });
    const headers = world.sender.requests[0]!.headers;
    assert.deepEqual(Object.keys(headers).filter((name) => name.toLowerCase() === 'traceparent'), ['traceparent']);
    assert.equal(parseTraceparent(headers['traceparent'])?.traceId, TRACE);
  });

  it('a malformed traceparent starts a new trace, is logged, and the event is delivered', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    const outcome = await world.publish(event(), { traceparent: '00-not-a-trace' });
    assert.ok(outcome.acked);
    const record = world.record('wh-a');
    assert.equal(record.status, 'succeeded');
    assert.match(String(record.traceId), /^[0-9a-f]{32}$/);
    const warning = world.logger.entries.find((entry) => entry['traceparentInvalid'] !== undefined);
    assert.ok(warning, 'the malformed attribute is logged');
    assert.equal(warning.severity, 'WARNING');
    assert.equal(warning['traceId'], record.traceId, 'the warning is on the new trace');
    for (const line of linesOf(world, 'wh-a')) assert.equal(line['traceId'], record.traceId);
  });

  it('no attribute: a new trace, on the record and every line', async () => {
    const world = new World({ webhooks: ['wh-a', 'wh-b'] });
    await world.publish(event());
    const [a, b] = [world.record('wh-a'), world.record('wh-b')];
    assert.match(String(a.traceId), /^[0-9a-f]{32}$/);
    assert.equal(a.traceId, b.traceId, "one event, one trace: its deliveries are spans of it");
    for (const line of [...linesOf(world, 'wh-a'), ...linesOf(world, 'wh-b')]) assert.equal(line['traceId'], a.traceId);
  });

  it("the repair sweep logs, and enqueues, with the record's trace", async () => {
    const world = new World({ webhooks: ['wh-a'] });
    world.sender.respond = () => response(500);
    await world.publish(event(), { traceparent: VALID });
    world.scheduler.tasks.length = 0; // the task is lost
    world.logger.entries.length = 0;
    world.clock.advance(60_000 + world.timing.overdueMs);
    assert.equal((await world.sweep()).repaired, 1);
    const recovered = world.logger.entries.filter((entry) => entry['deliveryId'] === 'wh-a/evt-1');
    assert.ok(recovered.length > 0);
    for (const line of recovered) assert.equal(line['traceId'], TRACE, line.message);
    assert.equal(parseTraceparent(world.scheduler.tasks[0]!.task.traceparent)?.traceId, TRACE);
  });

  it('a retry task without a traceparent (enqueued before traces) continues the trace of its record', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    world.sender.respond = (_request, previous) => response(previous === 0 ? 503 : 200);
    await world.publish(event(), { traceparent: VALID });
    const [task] = world.scheduler.of('wh-a');
    delete task!.task.traceparent;
    world.logger.entries.length = 0;
    await world.drainTasks();
    assert.equal(world.record('wh-a').status, 'succeeded');
    const attempt = world.logger.entries.find((entry) => entry['attempt'] === 2 && typeof entry['durationMs'] === 'number');
    assert.equal(attempt?.['traceId'], TRACE);
  });
});
