import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { CLAIM_LEASE_MS, eventClaimOf, eventClaimPath, HttpMethod, STANDARD_HEADERS } from '../support/kit.ts';
import { startReceiver, type ReceivedRequest, type Receiver } from '../support/receiver.ts';

const HOSTILE = 'José "Pepe" O\'Brien, <b>&amp;</b>\\ \n line2 — 日本 😀';

let h: Harness;
let receiver: Receiver;

before(async () => {
  [h, receiver] = await Promise.all([startHarness(), startReceiver()]);
});
after(async () => {
  await Promise.all([h.close(), receiver.close()]);
});

/** Creates a webhook aimed at the receiver under a unique path, publishes one event, waits for the log. */
async function deliver(webhookId: string, fields: Record<string, unknown>, data: Record<string, unknown> = { name: HOSTILE, count: 7 }, accountId = 'acc_p') {
  await h.setWebhook(accountId, webhookId, { name: webhookId, events: ['call.created'], url: `${receiver.url}/${webhookId}`, ...fields });
  const event = eventOf('call.created', accountId, data);
  await h.publish(event);
  const record = await h.waitForDelivery(accountId, webhookId, event.id);
  const request = receiver.requests.find((r) => r.url.startsWith(`/${webhookId}`) && (r.headers['x-event'] === undefined || r.headers['x-event'] === event.id));
  return { event, record, request };
}

function received(request: ReceivedRequest | undefined): ReceivedRequest {
  assert.ok(request, 'the receiver got no request');
  return request;
}

describe('a platform event becomes a correctly shaped request', () => {
  it('delivers the Airtable-style JSON body, logs the request and response', async () => {
    const { record, request, event } = await deliver('airtable', {
      url: `${receiver.url}/airtable/v0/appX/Calls`,
      headers: { Authorization: 'Bearer literal-token', 'X-Event': '{{ event.id }}' },
      body: '{"records":[{"fields":{"Call":"{{ data.call.id }}","Customer":"{{ data.name }}","Count":{{ data.count }}}}]}',
    }, { call: { id: 'call_9' }, name: HOSTILE, count: 7 });
    assert.equal(record.status, 'succeeded', String(record.lastError));
    assert.deepEqual(JSON.parse(received(request).body), { records: [{ fields: { Call: 'call_9', Customer: HOSTILE, Count: 7 } }] });
    assert.equal(record.eventType, 'call.created');
    assert.equal(record.webhookName, 'airtable');
    assert.deepEqual(record.event, event);
    const [attempt] = record.attempts;
    assert.equal(attempt?.number, 1);
    assert.equal(attempt?.target, 'primary');
    assert.equal(attempt?.request?.method, 'POST');
    assert.equal(attempt?.request?.url, `${receiver.url}/airtable/v0/appX/Calls`);
    assert.equal(attempt?.request?.headers.Authorization, '[redacted]');
    assert.equal(attempt?.response?.status, 200);
    assert.equal(attempt?.response?.body, 'ok');
    assert.ok(record.expiresAt.getTime() > Date.now() + 29 * 86_400_000, 'kept 30 days by default');
  });

  for (const method of HttpMethod) {
    it(`sends ${method}`, async () => {
      const { record, request } = await deliver(`method-${method.toLowerCase()}`, { method, body: '{"n": {{ data.count }}}' });
      assert.equal(record.status, 'succeeded');
      assert.equal(received(request).method, method);
      const hasBody = method !== 'GET' && method !== 'HEAD';
      assert.equal(received(request).body, hasBody ? '{"n": 7}' : '');
      assert.equal(received(request).headers['content-type'], hasBody ? 'application/json; charset=utf-8' : undefined);
    });
  }

  const formats: Array<{ format: string; body: string; contentType: string; check: (body: string) => void }> = [
    { format: 'json', body: '{"name": "{{ data.name }}", "count": {{ data.count }}}', contentType: 'application/json; charset=utf-8', check: (body) => assert.deepEqual(JSON.parse(body), { name: HOSTILE, count: 7 }) },
    {
      format: 'xml',
      body: '<?xml version="1.0"?><call name="{{ data.name }}"><name>{{ data.name }}</name></call>',
      contentType: 'application/xml; charset=utf-8',
      check: (body) => {
        // htmlEntities: decode character references (&#10;) as every conformant XML parser does.
        const parsed = new XMLParser({ ignoreAttributes: false, trimValues: false, parseTagValue: false, htmlEntities: true }).parse(body);
        assert.equal(parsed.call.name, HOSTILE);
        assert.equal(parsed.call['@_name'], HOSTILE);
      },
    },
    { format: 'csv', body: 'name,count\n{{ data.name }},{{ data.count }}', contentType: 'text/csv; charset=utf-8', check: (body) => assert.equal(body, `name,count\n"${HOSTILE.replace(/"/g, '""')}",7`) },
    { format: 'yaml', body: 'name: {{ data.name }}\ncount: {{ data.count }}', contentType: 'application/yaml; charset=utf-8', check: (body) => assert.deepEqual(parseYaml(body), { name: HOSTILE, count: 7 }) },
    { format: 'form', body: 'name={{ data.name }}&count={{ data.count }}', contentType: 'application/x-www-form-urlencoded', check: (body) => assert.deepEqual(Object.fromEntries(new URLSearchParams(body)), { name: HOSTILE, count: '7' }) },
    { format: 'text', body: 'Call from {{ data.name }}', contentType: 'text/plain; charset=utf-8', check: (body) => assert.equal(body, `Call from ${HOSTILE}`) },
  ];
  for (const { format, body, contentType, check } of formats) {
    it(`keeps a ${format} body well-formed with quotes, newlines, <&>, commas and unicode`, async () => {
      const { record, request } = await deliver(`format-${format}`, { format, body });
      assert.equal(record.status, 'succeeded', String(record.lastError));
      assert.equal(received(request).headers['content-type'], contentType);
      check(received(request).body);
    });
  }

  it('fills path, query and headers from variables, and sends the standard headers', async () => {
    const { record, request, event } = await deliver('vars', {
      url: `${receiver.url}/vars/{{ data.call.id }}/{{ data.name }}`,
      query: { customer: '{{ data.name }}', type: '{{ event.type }}' },
      headers: { 'X-Event': '{{ event.id }}', 'X-Webhook': '{{ webhook.name }}', 'X-Account': '{{ event.accountId }}' },
    }, { call: { id: 'call 1/2' }, name: HOSTILE.replace('\n', ' ') });
    assert.equal(record.status, 'succeeded', String(record.lastError));
    const url = new URL(received(request).url, receiver.url);
    assert.deepEqual(url.pathname.split('/').slice(2).map(decodeURIComponent), ['call 1/2', HOSTILE.replace('\n', ' ')]);
    assert.equal(url.searchParams.get('customer'), HOSTILE.replace('\n', ' '));
    assert.equal(url.searchParams.get('type'), 'call.created');
    assert.equal(received(request).headers['x-event'], event.id);
    assert.equal(received(request).headers['x-webhook'], 'vars');
    assert.equal(received(request).headers['x-account'], 'acc_p');
    for (const [name, value] of Object.entries(STANDARD_HEADERS)) assert.equal(received(request).headers[name.toLowerCase()], value);
  });

  it("uses the webhook's own Content-Type over the format's", async () => {
    const { request } = await deliver('ctype', { format: 'json', body: '{}', headers: { 'content-type': 'application/vnd.api+json' } });
    assert.equal(received(request).headers['content-type'], 'application/vnd.api+json');
  });

  it('sends the event itself as JSON when there is no body template', async () => {
    const { request, event } = await deliver('nobody', {});
    assert.deepEqual(JSON.parse(received(request).body), event);
  });
});

describe('outcomes in the delivery log', () => {
  it('2xx: succeeded', async () => {
    receiver.respond((r, res) => (r.url.startsWith('/st-201') ? (res.statusCode = 201, res.end('created')) : res.end('ok')));
    const { record } = await deliver('st-201', {});
    assert.equal(record.status, 'succeeded');
    assert.equal(record.attempts[0]?.response?.body, 'created');
  });

  for (const status of [400, 404]) {
    it(`${status}: failed with the response captured, not retried`, async () => {
      receiver.respond((r, res) => {
        res.statusCode = r.url.startsWith(`/st-${status}`) ? status : 200;
        res.setHeader('content-type', 'application/json');
        res.end('{"error":"bad field Foo"}');
      });
      const { record } = await deliver(`st-${status}`, {});
      assert.equal(record.status, 'failed');
      assert.equal(record.attempts.length, 1);
      assert.equal(record.attempts[0]?.response?.status, status);
      assert.equal(record.attempts[0]?.response?.body, '{"error":"bad field Foo"}');
      assert.equal(record.attempts[0]?.outcome, 'failed');
      assert.equal(record.lastError, `HTTP ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(receiver.requests.filter((r) => r.url.startsWith(`/st-${status}`)).length, 1, 'not retried');
    });
  }

  for (const status of [429, 500, 503]) {
    it(`${status}: recorded as retryable and a retry is scheduled`, async () => {
      receiver.respond((r, res) => {
        res.statusCode = r.url.startsWith(`/st-${status}`) ? status : 200;
        res.end('later');
      });
      await h.setWebhook('acc_p', `st-${status}`, { name: 'x', events: ['call.created'], url: `${receiver.url}/st-${status}` });
      const event = eventOf('call.created', 'acc_p');
      await h.publish(event);
      const record = await h.waitForDelivery('acc_p', `st-${status}`, event.id, (r) => r.attempts.length >= 1);
      assert.equal(record.status, 'retrying');
      assert.equal(record.attempts[0]?.outcome, 'retryable');
      assert.equal(record.attempts[0]?.response?.status, status);
      assert.ok(record.nextAttemptAt && record.nextAttemptAt.getTime() > record.attempts[0]!.startedAt.getTime());
      receiver.respond((_r, res) => res.end('ok'));
    });
  }

  it('a receiver that hangs past the timeout: retryable timeout', async () => {
    receiver.respond((r, res) => {
      if (!r.url.startsWith('/hang')) res.end('ok'); // never answers /hang
    });
    await h.setWebhook('acc_p', 'hang', { name: 'x', events: ['call.created'], url: `${receiver.url}/hang`, timeoutSeconds: 1 });
    const event = eventOf('call.created', 'acc_p');
    await h.publish(event);
    const record = await h.waitForDelivery('acc_p', 'hang', event.id, (r) => r.attempts.length >= 1);
    assert.equal(record.attempts[0]?.outcome, 'retryable');
    assert.equal(record.attempts[0]?.error?.code, 'ETIMEDOUT');
    assert.ok(record.attempts[0]!.durationMs >= 900 && record.attempts[0]!.durationMs < 5000);
    receiver.respond((_r, res) => res.end('ok'));
  });
});

describe('only the right webhooks fire', () => {
  it("never fires another account's webhook, a disabled one, or one not subscribed to the type", async () => {
    await h.setWebhook('acc_other', 'theirs', { name: 'theirs', events: ['call.created'], url: `${receiver.url}/theirs` });
    await h.setWebhook('acc_mine', 'disabled', { name: 'off', enabled: false, events: ['call.created'], url: `${receiver.url}/disabled` });
    await h.setWebhook('acc_mine', 'other-type', { name: 'other', events: ['user.created'], url: `${receiver.url}/other-type` });
    await h.setWebhook('acc_mine', 'mine', { name: 'mine', events: ['call.created', 'user.created'], url: `${receiver.url}/mine` });
    const event = eventOf('call.created', 'acc_mine');
    await h.publish(event);
    await h.waitForDelivery('acc_mine', 'mine', event.id);
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.equal(receiver.requests.filter((r) => r.url === '/mine').length, 1);
    for (const path of ['/theirs', '/disabled', '/other-type']) assert.equal(receiver.requests.filter((r) => r.url === path).length, 0, path);
    for (const [account, webhook] of [['acc_other', 'theirs'], ['acc_mine', 'disabled'], ['acc_mine', 'other-type']] as const) {
      assert.equal(await h.delivery(account, webhook, event.id), undefined, `${account}/${webhook} has no delivery`);
    }
  });
});

describe('bad input gets a clear recorded error and loses nothing', () => {
  it('a bad template: invalid, with the field and line, and the other webhooks still deliver', async () => {
    await h.setWebhook('acc_bad', 'broken', { name: 'broken', events: ['call.created'], url: `${receiver.url}/broken`, body: '{"a": "{{ data.x | jsn }}"}' });
    await h.setWebhook('acc_bad', 'fine', { name: 'fine', events: ['call.created'], url: `${receiver.url}/fine` });
    const event = eventOf('call.created', 'acc_bad', { x: 1 });
    await h.publish(event);
    const broken = await h.waitForDelivery('acc_bad', 'broken', event.id);
    assert.equal(broken.status, 'invalid');
    assert.match(broken.lastError ?? '', /^webhook broken: body: template error at line 1, column \d+: undefined filter 'jsn'$/);
    assert.equal((await h.waitForDelivery('acc_bad', 'fine', event.id)).status, 'succeeded');
    assert.equal(receiver.requests.filter((r) => r.url === '/broken').length, 0);
  });

  it('a document that breaks the schema: invalid, naming the fields', async () => {
    await h.setWebhook('acc_bad', 'schema', { name: 'schema', events: ['call.created'], url: `${receiver.url}/schema`, method: 'FETCH', timeoutSeconds: 99 });
    const event = eventOf('call.created', 'acc_bad');
    await h.publish(event);
    const record = await h.waitForDelivery('acc_bad', 'schema', event.id);
    assert.equal(record.status, 'invalid');
    assert.match(record.lastError ?? '', /^webhook schema: method: must be one of .*; timeoutSeconds: must be at most 30$/);
  });

  const badEvents: Array<{ name: string; data: string; attributes?: Record<string, string>; reason: RegExp }> = [
    { name: 'not JSON', data: 'not json at all', reason: /not UTF-8 JSON/ },
    { name: 'unknown type', data: JSON.stringify({ id: 'evt_u', type: 'call.exploded', accountId: 'acc_1', occurredAt: '2026-11-23T10:00:00Z', data: {} }), reason: /type: 'call.exploded' is not an event type/ },
    { name: 'missing fields', data: JSON.stringify({ type: 'call.created' }), reason: /id: .*accountId: .*occurredAt: .*data: / },
  ];
  for (const { name, data, attributes, reason } of badEvents) {
    it(`a malformed event (${name}) is recorded in invalidEvents and acknowledged`, async () => {
      const messageId = await h.publish(data, attributes ?? {});
      const deadline = Date.now() + 20_000;
      let doc;
      while (Date.now() < deadline && !(doc = await h.db.doc(`invalidEvents/${messageId}`).get()).exists) await new Promise((r) => setTimeout(r, 100));
      assert.ok(doc?.exists, 'recorded');
      assert.match(doc.get('reason'), reason);
      assert.equal(doc.get('data'), data);
    });
  }

  // Before the event claim a crashed dispatcher left a `pending` record; now it leaves the event's claim
  // and no record for a delivery whose answer it never recorded: that is what is planted here.
  it('a delivery left without a record by an instance that died is taken over with its event claim: its attempt recorded as unknown, the next one delivered', async () => {
    await h.setWebhook('acc_dup', 'orphan', { name: 'orphan', events: ['call.created'], url: `${receiver.url}/orphan` });
    const event = eventOf('call.created', 'acc_dup');
    // What a crashed instance leaves behind: the event's claim (attempt 1 in flight under it), older than the lease.
    const crashedAt = new Date(Date.now() - CLAIM_LEASE_MS - 5_000);
    await h.db.doc(eventClaimPath('acc_dup', event.id)).create(eventClaimOf(event, ['orphan'], crashedAt, 30));
    await h.publish(event); // Pub/Sub redelivers the message the dead instance never acknowledged
    const record = await h.waitForDelivery('acc_dup', 'orphan', event.id);
    assert.equal(record.status, 'succeeded');
    // Attempt 1 may have reached the receiver before the crash: it is recorded as unknown, never re-sent
    // by the takeover itself; attempt 2 goes out through the retry queue.
    assert.deepEqual(record.attempts.map((attempt) => [attempt.number, attempt.outcome]), [[1, 'unknown'], [2, 'succeeded']]);
    assert.equal(record.attempts[0]?.startedAt.getTime(), crashedAt.getTime());
    assert.equal(receiver.requests.filter((r) => r.url === '/orphan').length, 1);
    await h.waitForLog((entry) => entry.eventId === event.id && /recovered a delivery without a live owner/.test(entry.message), 5000);
    assert.equal((await h.db.doc(eventClaimPath('acc_dup', event.id)).get()).get('takeovers'), 1);
  });

  it('the same event published twice is sent once', async () => {
    await h.setWebhook('acc_dup', 'once', { name: 'once', events: ['call.created'], url: `${receiver.url}/once` });
    const event = eventOf('call.created', 'acc_dup');
    await Promise.all([h.publish(event), h.publish(event)]);
    await h.waitForDelivery('acc_dup', 'once', event.id);
    await h.publish(event);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(receiver.requests.filter((r) => r.url === '/once').length, 1);
    assert.equal((await h.delivery('acc_dup', 'once', event.id))?.attempts.length, 1);
  });
});
