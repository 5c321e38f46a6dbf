import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sampleEvent } from '../../functions/src/events/event-catalogue.ts';
import { TemplateEngine } from '../../functions/src/render/template-engine.ts';
import { validateWebhookDocument } from '../../functions/src/validation/validate-webhook.ts';
import { evaluateFilter, filterContext, FILTER_LIMITS, parseFilter, type FilterContext } from '../../functions/src/webhooks/event-filter.ts';
import { parseWebhookConfig } from '../../functions/src/webhooks/webhook-config.ts';
import { event as fakeEvent, webhookDocument, World } from './delivery-fakes.ts';

// The call.created sample: durationSeconds 805, channel "video", queue "Ventas hogar", tags
// ["venta", "hogar-plus"], recording { id, url, durationSeconds 803 }, metadata.source "web-widget".
const call = filterContext({ id: 'wh-1', name: 'CRM' }, sampleEvent('call.created'));
// segment.created carries an array of objects: data.segment.agents = [{ id, name: 'José Muñoz', email }].
const segment = filterContext({ id: 'wh-1', name: 'CRM' }, sampleEvent('segment.created'));
const withData = (data: Record<string, unknown>): FilterContext => ({ ...call, data });

function verdict(filter: unknown, context: FilterContext = call) {
  const parsed = parseFilter(filter);
  if (!parsed.ok) throw new Error(`filter refused: ${JSON.stringify(parsed.issues)}`);
  return evaluateFilter(parsed.filter, context);
}

describe('filter evaluation: every operator, paths, arrays, missing values and type mismatches', () => {
  const cases: Array<{ name: string; filter: unknown; context?: FilterContext; pass: boolean; reason?: RegExp }> = [
    // $eq, implicit and explicit
    { name: 'a literal is equality', filter: { 'data.call.channel': 'video' }, pass: true },
    { name: 'a literal that differs', filter: { 'data.call.channel': 'audio' }, pass: false, reason: /^data\.call\.channel is "video", not = "audio"$/ },
    { name: '$eq on a number', filter: { 'data.call.durationSeconds': { $eq: 805 } }, pass: true },
    { name: '$eq is strict about types', filter: { 'data.call.durationSeconds': { $eq: '805' } }, pass: false },
    { name: '$eq null matches a missing path', filter: { 'data.nothing': { $eq: null } }, pass: true },
    { name: '$eq null matches null', filter: { 'data.x': null }, context: withData({ x: null }), pass: true },
    { name: '$eq an object (deep)', filter: { 'data.metadata': { $eq: { source: 'web-widget', campaign: 'otono-2025' } } }, pass: true },
    { name: '$eq an array (the whole array)', filter: { 'data.tags': { $eq: ['venta', 'hogar-plus'] } }, pass: true },
    { name: '$eq on an array matches an item', filter: { 'data.tags': 'hogar-plus' }, pass: true },
    { name: '$eq on an array with no such item', filter: { 'data.tags': 'soporte' }, pass: false },
    // $neq
    { name: '$neq a different value', filter: { 'data.call.channel': { $neq: 'audio' } }, pass: true },
    { name: '$neq the same value', filter: { 'data.call.channel': { $neq: 'video' } }, pass: false, reason: /data\.call\.channel is "video", = "video"/ },
    { name: '$neq on a missing path passes', filter: { 'data.nothing': { $neq: 'x' } }, pass: true },
    { name: '$neq on an array holding it', filter: { 'data.tags': { $neq: 'venta' } }, pass: false },
    // comparisons
    { name: '$gt', filter: { 'data.call.durationSeconds': { $gt: 60 } }, pass: true },
    { name: '$gt fails with the value', filter: { 'data.call.durationSeconds': { $gt: 805 } }, pass: false, reason: /^data\.call\.durationSeconds is 805, not > 805$/ },
    { name: '$gte at the bound', filter: { 'data.call.durationSeconds': { $gte: 805 } }, pass: true },
    { name: '$lt', filter: { 'data.call.durationSeconds': { $lt: 806 } }, pass: true },
    { name: '$lt fails', filter: { 'data.call.durationSeconds': { $lt: 805 } }, pass: false },
    { name: '$lte at the bound', filter: { 'data.call.durationSeconds': { $lte: 805 } }, pass: true },
    { name: 'a range: $gt and $lt together', filter: { 'data.call.durationSeconds': { $gt: 60, $lt: 900 } }, pass: true },
    { name: 'a range that excludes', filter: { 'data.call.durationSeconds': { $gt: 60, $lt: 600 } }, pass: false, reason: /not < 600/ },
    { name: 'ISO dates compare as text', filter: { 'data.call.startedAt': { $gte: '2025-03-14T00:00:00.000Z', $lt: '2025-03-15' } }, pass: true },
    { name: 'a text is not compared with a number', filter: { 'data.call.channel': { $gt: 1 } }, pass: false, reason: /data\.call\.channel is "video": not a number to compare with 1/ },
    { name: 'a number is not compared with a text', filter: { 'data.call.durationSeconds': { $gt: '1' } }, pass: false, reason: /not a text to compare with "1"/ },
    { name: 'a comparison on a missing path', filter: { 'data.nothing': { $gt: 1 } }, pass: false, reason: /^data\.nothing is missing$/ },
    { name: 'a comparison on null', filter: { 'data.x': { $lt: 1 } }, context: withData({ x: null }), pass: false },
    { name: 'a comparison on a boolean', filter: { 'data.x': { $gt: 0 } }, context: withData({ x: true }), pass: false },
    { name: 'a comparison on an array matches any item', filter: { 'data.scores': { $gt: 8 } }, context: withData({ scores: [3, 9, 5] }), pass: true },
    // $in / $nin
    { name: '$in', filter: { 'data.queue.name': { $in: ['Soporte', 'Ventas hogar'] } }, pass: true },
    { name: '$in without it', filter: { 'data.queue.name': { $in: ['Soporte'] } }, pass: false, reason: /not one of \["Soporte"\]/ },
    { name: '$in with an array value: any item', filter: { 'data.tags': { $in: ['hogar-plus', 'x'] } }, pass: true },
    { name: '$in on a missing path', filter: { 'data.nothing': { $in: ['x'] } }, pass: false },
    { name: '$nin', filter: { 'data.queue.name': { $nin: ['Soporte'] } }, pass: true },
    { name: '$nin with it', filter: { 'data.queue.name': { $nin: ['Ventas hogar'] } }, pass: false },
    { name: '$nin on a missing path passes', filter: { 'data.nothing': { $nin: ['x'] } }, pass: true },
    { name: '$nin with an array value holding one', filter: { 'data.tags': { $nin: ['venta'] } }, pass: false },
    // $exist
    { name: '$exist true', filter: { 'data.recording': { $exist: true } }, pass: true },
    { name: '$exist false on a present path', filter: { 'data.recording': { $exist: false } }, pass: false, reason: /^data\.recording is present/ },
    { name: '$exist false on a missing path', filter: { 'data.transcript': { $exist: false } }, pass: true },
    { name: '$exist true on a missing path', filter: { 'data.transcript': { $exist: true } }, pass: false, reason: /^data\.transcript is missing$/ },
    { name: 'null exists', filter: { 'data.recording': { $exist: true } }, context: withData({ recording: null }), pass: true },
    // $regex
    { name: '$regex', filter: { 'data.queue.name': { $regex: '^Ventas' } }, pass: true },
    { name: '$regex case-insensitive with (?i)', filter: { 'data.queue.name': { $regex: '(?i)^ventas' } }, pass: true },
    { name: '$regex that does not match', filter: { 'data.queue.name': { $regex: '^Soporte' } }, pass: false, reason: /not matching \/\^Soporte\// },
    { name: '$regex on an array: any item', filter: { 'data.tags': { $regex: '^hogar' } }, pass: true },
    { name: '$regex on a number does not match', filter: { 'data.call.durationSeconds': { $regex: '8' } }, pass: false, reason: /not a text to match/ },
    { name: '$regex on a missing path', filter: { 'data.nothing': { $regex: '.' } }, pass: false },
    { name: '$regex on unicode text', filter: { 'data.agent.name': { $regex: 'Muñoz$' } }, pass: true },
    // paths
    { name: 'a nested object is a path', filter: { data: { queue: { name: 'Ventas hogar' } } }, pass: true },
    { name: 'nested and dotted mixed', filter: { 'data.call': { durationSeconds: { $gt: 60 }, channel: 'video' } }, pass: true },
    { name: 'an operator beside nested paths applies to the prefix', filter: { 'data.recording': { $exist: true, durationSeconds: { $gt: 800 } } }, pass: true },
    { name: 'an array index with a dot', filter: { 'data.tags.0': 'venta' }, pass: true },
    { name: 'an array index in brackets', filter: { 'data.tags[1]': 'hogar-plus' }, pass: true },
    { name: 'an index past the end is missing', filter: { 'data.tags[5]': { $exist: false } }, pass: true },
    { name: 'a key of every item of an array', filter: { 'data.segment.agents.name': 'José Muñoz' }, context: segment, pass: true },
    { name: 'a key of every item, none matching', filter: { 'data.segment.agents.name': 'Nadie' }, context: segment, pass: false },
    { name: 'the envelope: event.type', filter: { 'event.type': 'call.created' }, pass: true },
    { name: 'the envelope: webhook.name', filter: { 'webhook.name': { $regex: '^CR' } }, pass: true },
    { name: 'inherited properties are not read', filter: { 'data.constructor': { $exist: false } }, pass: true },
    { name: 'through a text is missing', filter: { 'data.call.channel.length': { $exist: false } }, pass: true },
    // logic
    { name: 'every entry must match', filter: { 'data.call.channel': 'video', 'data.queue.name': 'Soporte' }, pass: false, reason: /^data\.queue\.name is "Ventas hogar", not = "Soporte"$/ },
    { name: '$and', filter: { $and: [{ 'data.call.channel': 'video' }, { 'data.call.durationSeconds': { $gt: 60 } }] }, pass: true },
    { name: '$and fails on one', filter: { $and: [{ 'data.call.channel': 'video' }, { 'data.call.durationSeconds': { $gt: 6000 } }] }, pass: false },
    { name: '$or, one matching', filter: { $or: [{ 'data.call.channel': 'audio' }, { 'data.queue.name': 'Ventas hogar' }] }, pass: true },
    { name: '$or, none matching, says each', filter: { $or: [{ 'data.call.channel': 'audio' }, { 'data.nothing': 1 }] }, pass: false, reason: /^none of \$or matched: data\.call\.channel is "video", not = "audio"; data\.nothing is missing, not = 1$/ },
    { name: '$not', filter: { $not: { 'data.call.channel': 'audio' } }, pass: true },
    { name: '$not of a match', filter: { $not: { 'data.call.channel': 'video' } }, pass: false, reason: /^\$not: data\.call\.channel is "video", = "video"$/ },
    { name: '$not under a path', filter: { 'data.call.durationSeconds': { $not: { $gt: 900 } } }, pass: true },
    { name: '$or under a prefix', filter: { 'data.call': { $or: [{ channel: 'audio' }, { durationSeconds: { $gte: 800 } }] } }, pass: true },
    { name: 'an empty filter passes everything', filter: {}, pass: true },
  ];
  for (const { name, filter, context, pass, reason } of cases) {
    it(name, () => {
      const result = verdict(filter, context);
      assert.equal(result.pass, pass, result.reason);
      if (reason) assert.match(result.reason, reason);
    });
  }

  it('a failure names its path alone in `at` (for logs), the value only in `reason`', () => {
    const result = verdict({ 'data.customer.email': { $regex: '@acme\\.com$' } });
    assert.equal(result.pass, false);
    assert.ok(!result.pass && result.at === 'data.customer.email');
    assert.match(result.reason, /maria\.conceicao@example\.com/);
  });

  it('reasons show at most 80 characters of a value, even a large one', () => {
    const big = { text: 'x'.repeat(100_000), list: Array.from({ length: 10_000 }, (_, n) => n) };
    const result = verdict({ 'data.big': { $exist: false } }, withData({ big }));
    assert.equal(result.pass, false);
    assert.ok(result.reason.length < 140, result.reason);
  });
});

describe('filter regexes are bounded', () => {
  it('a pattern that backtracks exponentially in JavaScript runs in linear time (RE2)', () => {
    const text = `${'a'.repeat(FILTER_LIMITS.regexInputChars - 1)}!`;
    const started = performance.now();
    const result = verdict({ 'data.x': { $regex: '^(a+)+$' } }, withData({ x: text }));
    assert.equal(result.pass, false);
    // /^(a+)+$/ in V8 on this input would not finish in any useful time.
    assert.ok(performance.now() - started < 1000, `took ${performance.now() - started} ms`);
  });

  it('a value longer than the input bound is not matched, and the reason says so', () => {
    const result = verdict({ 'data.x': { $regex: 'a' } }, withData({ x: 'a'.repeat(FILTER_LIMITS.regexInputChars + 1) }));
    assert.equal(result.pass, false);
    assert.match(result.reason, /over 16384 characters is not matched/);
    assert.equal(verdict({ 'data.x': { $regex: 'a' } }, withData({ x: 'a'.repeat(FILTER_LIMITS.regexInputChars) })).pass, true);
  });

  it('one evaluation scans at most the regex budget', () => {
    const items = Array.from({ length: FILTER_LIMITS.regexBudgetChars / 1024 + 2 }, () => 'b'.repeat(1024));
    items.push('needle');
    const result = verdict({ 'data.items': { $regex: 'needle' } }, withData({ items }));
    assert.equal(result.pass, false);
    assert.match(result.reason, /budget of \$regex per event is used up/);
    assert.equal(verdict({ 'data.items': { $regex: 'needle' } }, withData({ items: items.slice(-3) })).pass, true);
  });
});

/** { a: { b: { … { last: 1 } } } } */
const deep = (keys: string[]): unknown => keys.reduceRight<unknown>((inner, key) => ({ [key]: inner }), 1);

describe('filter parsing: mistakes are refused with where they are', () => {
  const cases: Array<{ name: string; filter: unknown; path: Array<string | number>; message: RegExp }> = [
    { name: 'not a map', filter: ['data.x'], path: [], message: /must be a map of conditions/ },
    { name: 'an unknown operator, with a guess', filter: { 'data.x': { $exists: true } }, path: ['data.x', '$exists'], message: /\$exists is not an operator \(did you mean \$exist\?\)/ },
    { name: 'an unknown operator at the top', filter: { $nor: [] }, path: ['$nor'], message: /is not an operator/ },
    { name: 'an operator without a path', filter: { $gt: 3 }, path: ['$gt'], message: /needs a path/ },
    { name: 'a bad regex', filter: { 'data.x': { $regex: '(' } }, path: ['data.x', '$regex'], message: /not a regular expression hookshape can run: missing closing \)/ },
    { name: 'a backreference (not linear)', filter: { 'data.x': { $regex: '(a)\\1' } }, path: ['data.x', '$regex'], message: /no backreferences or lookaround/ },
    { name: 'a lookahead (not linear)', filter: { 'data.x': { $regex: 'a(?=b)' } }, path: ['data.x', '$regex'], message: /no backreferences or lookaround/ },
    { name: 'a regex that is not a text', filter: { 'data.x': { $regex: 3 } }, path: ['data.x', '$regex'], message: /must be a text/ },
    { name: 'a regex over the pattern bound', filter: { 'data.x': { $regex: 'a'.repeat(FILTER_LIMITS.regexPatternChars + 1) } }, path: ['data.x', '$regex'], message: /the limit is 512/ },
    { name: '$in not an array', filter: { 'data.x': { $in: 'a' } }, path: ['data.x', '$in'], message: /must be an array/ },
    { name: '$nin over the list bound', filter: { 'data.x': { $nin: Array.from({ length: 501 }, (_, n) => n) } }, path: ['data.x', '$nin'], message: /the limit is 500/ },
    { name: '$exist not a boolean', filter: { 'data.x': { $exist: 'yes' } }, path: ['data.x', '$exist'], message: /must be true or false/ },
    { name: '$gt with an object', filter: { 'data.x': { $gt: { n: 1 } } }, path: ['data.x', '$gt'], message: /must be a number or a text/ },
    { name: '$and not an array', filter: { $and: { 'data.x': 1 } }, path: ['$and'], message: /non-empty array/ },
    { name: '$or empty', filter: { $or: [] }, path: ['$or'], message: /non-empty array/ },
    { name: 'inside $or', filter: { $or: [{ 'data.x': 1 }, { 'data.y': { $regx: 'a' } }] }, path: ['$or', 1, 'data.y', '$regx'], message: /did you mean \$regex/ },
    { name: '$not of a literal', filter: { $not: 3 }, path: ['$not'], message: /must be a map of conditions/ },
    { name: 'secrets are not readable', filter: { 'secrets.TOKEN': 'x' }, path: ['secrets.TOKEN'], message: /cannot read secrets/ },
    { name: 'an unknown root', filter: { 'call.id': 'x' }, path: ['call.id'], message: /filters read event, data and webhook \(e\.g\. data\.call\.id\)/ },
    { name: 'an empty part of a path', filter: { 'data..x': 1 }, path: ['data..x'], message: /is not a path/ },
    { name: 'an empty condition', filter: { 'data.x': {} }, path: ['data.x'], message: /empty condition/ },
    { name: 'nested too deep', filter: deep(['data', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k']), path: ['data', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'], message: /nested more than 10 levels/ },
    { name: 'too many conditions', filter: Object.fromEntries(Array.from({ length: 101 }, (_, n) => [`data.f${n}`, n])), path: ['data.f100'], message: /more than 100 conditions/ },
  ];
  for (const { name, filter, path, message } of cases) {
    it(name, () => {
      const parsed = parseFilter(filter);
      assert.equal(parsed.ok, false);
      const found = !parsed.ok ? parsed.issues.find((issue) => message.test(issue.message)) : undefined;
      assert.ok(found, `no issue matching ${message}: ${JSON.stringify(!parsed.ok && parsed.issues)}`);
      assert.deepEqual(found.path, path);
    });
  }

  it('every problem is reported, not only the first', () => {
    const parsed = parseFilter({ 'data.a': { $regex: '(' }, 'data.b': { $in: 1 }, 'secrets.X': 1 });
    assert.equal(parsed.ok, false);
    assert.equal(!parsed.ok && parsed.issues.length, 3);
  });
});

describe('filter validation at save time (the schema and validate-webhook)', () => {
  const engine = new TemplateEngine();
  const base = { name: 'CRM', events: ['call.created'], url: 'https://crm.example.com/calls' };
  const validate = (document: unknown) => validateWebhookDocument(document, { accountId: 'acc_1', webhookId: 'crm', engine });

  it('the schema names the field path of each mistake', () => {
    const parsed = parseWebhookConfig('acc_1', 'crm', { ...base, filter: { $or: [{ 'data.queue.name': { $regex: '(?<=x)' } }] } });
    assert.equal(parsed.ok, false);
    assert.match(!parsed.ok ? parsed.reason : '', /^webhook crm: filter\.\$or\[0\]\.data\.queue\.name\.\$regex: is not a regular expression/);
  });

  it('a valid filter is parsed into the webhook', () => {
    const parsed = parseWebhookConfig('acc_1', 'crm', { ...base, filter: { 'data.call.durationSeconds': { $gt: 60 } } });
    assert.ok(parsed.ok && parsed.webhook.filter);
    const without = parseWebhookConfig('acc_1', 'crm', base);
    assert.ok(without.ok);
    assert.equal(without.webhook.filter, undefined);
  });

  const cases: Array<{ name: string; document: Record<string, unknown>; errors?: Array<{ field: string; message: RegExp }>; warnings?: Array<{ field: string; message: RegExp }> }> = [
    { name: 'catalogue paths of the event', document: { ...base, filter: { 'data.call.durationSeconds': { $gt: 60 }, 'data.tags': 'venta', 'data.recording': { $exist: true }, 'event.type': 'call.created', 'webhook.id': 'crm' } } },
    { name: 'array item paths without []', document: { ...base, events: ['segment.created'], filter: { 'data.segment.agents.name': 'Ana', 'data.segment.agents[0].id': 'usr_1' } } },
    { name: 'a nested path checked like a dotted one', document: { ...base, filter: { data: { call: { duration: { $gt: 60 } } } } }, errors: [{ field: 'filter.data.call.duration.$gt', message: /data\.call\.duration is not a variable of call\.created \(did you mean data\.call\.durationSeconds\?\)/ }] },
    { name: 'a typo in a path', document: { ...base, filter: { 'data.queue.nmae': 'Ventas' } }, errors: [{ field: 'filter.data.queue.nmae', message: /^filter\.data\.queue\.nmae: data\.queue\.nmae is not a variable of call\.created \(did you mean data\.queue\.name\?\)/ }] },
    { name: 'an envelope key that does not exist', document: { ...base, filter: { 'event.kind': 'x' } }, errors: [{ field: 'filter.event.kind', message: /event\.kind is not a variable/ }] },
    { name: 'a path in $or', document: { ...base, filter: { $or: [{ 'data.call.channel': 'video' }, { 'data.calls': 1 }] } }, errors: [{ field: 'filter.$or[1].data.calls', message: /data\.calls is not a variable/ }] },
    {
      name: 'a path only some subscribed events carry is a warning',
      document: { ...base, events: ['call.created', 'user.connected'], filter: { 'data.call.durationSeconds': { $gt: 60 } } },
      warnings: [{ field: 'filter.data.call.durationSeconds.$gt', message: /not a variable of user\.connected: for those events it is missing/ }],
    },
    { name: 'a schema mistake in the filter', document: { ...base, filter: { 'data.call.durationSeconds': { $greater: 60 } } }, errors: [{ field: 'filter.data.call.durationSeconds.$greater', message: /\$greater is not an operator/ }] },
  ];
  for (const { name, document, errors = [], warnings = [] } of cases) {
    it(name, async () => {
      const report = await validate(document);
      assert.equal(report.ok, errors.length === 0, JSON.stringify(report.errors));
      for (const expected of errors) assert.ok(report.errors.some((found) => found.field === expected.field && expected.message.test(found.message)), `${expected.field} ${expected.message}: ${JSON.stringify(report.errors)}`);
      for (const expected of warnings) assert.ok(report.warnings.some((found) => found.field === expected.field && expected.message.test(found.message)), `${expected.field} ${expected.message}: ${JSON.stringify(report.warnings)}`);
      if (errors.length === 0 && warnings.length === 0) assert.deepEqual(report.warnings, []);
    });
  }
});

describe('the dispatcher and filters', () => {
  it('a filtered-out event writes no delivery record and sends nothing; the log line counts it', async () => {
    const world = new World({ webhooks: [] });
    world.webhooks.set('acc-1', 'long', webhookDocument('long', { filter: { 'data.call.durationSeconds': { $gt: 60 } } }));
    world.webhooks.set('acc-1', 'all', webhookDocument('all'));
    const published = await world.publish(fakeEvent('evt-1', { call: { id: 'call-1', durationSeconds: 30 } }));
    assert.ok(published.acked);
    assert.deepEqual(published.outcomes.map(({ webhookId, status }) => [webhookId, status]), [['long', 'filtered'], ['all', 'succeeded']]);
    assert.equal(world.deliveries.records.size, 1, 'only the unfiltered webhook has a record');
    assert.ok(world.deliveries.peek(world.key('all')));
    assert.equal(world.deliveries.peek(world.key('long')), undefined);
    assert.equal(world.received('long'), 0);
    const line = world.logger.entries.find((entry) => entry.filtered === true);
    assert.deepEqual(line && { webhookId: line.webhookId, filterAt: line.filterAt, eventType: line.eventType }, { webhookId: 'long', filterAt: 'data.call.durationSeconds', eventType: 'call.created' });
    // Random trace and span ids may hold any digits: the event's values are what must be absent.
    assert.ok(line);
    const { traceId, spanId, traceSampled, ...fields } = line;
    assert.match(String(traceId), /^[0-9a-f]{32}$/);
    assert.ok(!JSON.stringify(fields).includes('30'), 'the log line carries no event value');
  });

  it('a matching event is delivered as usual', async () => {
    const world = new World({ webhooks: [] });
    world.webhooks.set('acc-1', 'long', webhookDocument('long', { filter: { 'data.call.durationSeconds': { $gt: 60 } } }));
    const published = await world.publish(fakeEvent('evt-1', { call: { id: 'call-1', durationSeconds: 90 } }));
    assert.ok(published.acked);
    assert.deepEqual(published.outcomes.map(({ status }) => status), ['succeeded']);
    assert.equal(world.received('long'), 1);
    assert.equal(world.logger.entries.filter((entry) => entry.filtered === true).length, 0);
  });

  it('when every webhook filters the event out, no secret is read and nothing is written', async () => {
    const world = new World({ webhooks: [] });
    for (const id of ['a', 'b']) world.webhooks.set('acc-1', id, webhookDocument(id, { filter: { 'event.type': 'queue.created' } }));
    const published = await world.publish();
    assert.ok(published.acked);
    assert.equal(world.faults.calls.get('secrets.secretsFor') ?? 0, 0);
    assert.equal(world.faults.calls.get('deliveries.claim') ?? 0, 0);
    assert.deepEqual(world.deliveries.writtenBytes, []);
  });
});
