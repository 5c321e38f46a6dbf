import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { XMLParser } from 'fast-xml-parser';
import { parse as parseYaml } from 'yaml';
import type { EventMessage } from '../../functions/src/events/event-message.ts';
import { buildRequest, type OutgoingRequest } from '../../functions/src/render/build-request.ts';
import { TemplateEngine } from '../../functions/src/render/template-engine.ts';
import { parseWebhookConfig, type WebhookConfig } from '../../functions/src/webhooks/webhook-config.ts';
import { STANDARD_HEADERS } from '../../functions/src/send/standard-headers.ts';
import { Webhook } from 'standardwebhooks';

const HOSTILE = 'Ana "A\\B" <b>&amp; \'x\', y\nz\r\tü 日本 😀';

const event: EventMessage = {
  id: 'evt_1',
  type: 'call.created',
  accountId: 'acc_1',
  occurredAt: '2026-11-23T10:00:00Z',
  data: { name: HOSTILE, count: 42, ok: true, tags: ['a', 'b "c"'], nothing: null, nested: { x: 1 } },
};

function webhook(fields: Record<string, unknown>): WebhookConfig {
  const parsed = parseWebhookConfig('acc_1', 'wh_1', { name: 'Test hook', events: ['call.created'], url: 'https://example.com/hook', ...fields });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.webhook;
}

const engine = new TemplateEngine();

async function build(fields: Record<string, unknown>, secrets: Record<string, string> = {}): Promise<OutgoingRequest> {
  const built = await buildRequest(webhook(fields), event, secrets, engine);
  if (!built.ok) throw built.error;
  return built.request;
}

async function buildError(fields: Record<string, unknown>): Promise<string> {
  const built = await buildRequest(webhook(fields), event, {}, engine);
  assert.equal(built.ok, false, 'expected the request to be invalid');
  return built.ok ? '' : built.error.message;
}

describe('body formats keep hostile values well-formed', () => {
  it('json: string values inside quotes, whole values with | json', async () => {
    const request = await build({
      body: '{"name": "{{ data.name }}", "greeting": "Hi {{ data.name }}!", "count": {{ data.count }}, "tags": {{ data.tags | json }}, "none": {{ data.nothing | json }}, "nested": {{ data.nested | json }}}',
    });
    assert.deepEqual(JSON.parse(request.body!), { name: HOSTILE, greeting: `Hi ${HOSTILE}!`, count: 42, tags: ['a', 'b "c"'], none: null, nested: { x: 1 } });
  });

  it('xml: text and attributes', async () => {
    const request = await build({ format: 'xml', body: '<call who="{{ data.name }}"><name>{{ data.name }}</name><n>{{ data.count }}</n></call>' });
    const parsed = new XMLParser({ ignoreAttributes: false, htmlEntities: true, trimValues: false, parseTagValue: false }).parse(request.body!);
    assert.equal(parsed.call.name, HOSTILE, 'line breaks, tabs and CR survive as character references');
    assert.equal(parsed.call['@_who'], HOSTILE);
    assert.equal(parsed.call.n, '42');
  });

  it('xml: characters XML cannot carry are replaced, not sent', async () => {
    const built = await buildRequest(webhook({ format: 'xml', body: '<a>{{ data.bad }}</a>' }), { ...event, data: { bad: 'x\u0001y' } }, {}, engine);
    assert.ok(built.ok);
    assert.equal(built.request.body, '<a>x\uFFFDy</a>');
  });

  it('csv: each output is one field, quoted when needed', async () => {
    const request = await build({ format: 'csv', body: 'name,count\n{{ data.name }},{{ data.count }}\n' });
    assert.equal(request.body, `name,count\n"${HOSTILE.replace(/"/g, '""')}",42\n`);
  });

  it('yaml: outputs are whole scalars, type-preserving', async () => {
    const request = await build({ format: 'yaml', body: 'name: {{ data.name }}\ncount: {{ data.count }}\nok: {{ data.ok }}\ntags: {{ data.tags }}\nnone: {{ data.nothing }}\n' });
    assert.deepEqual(parseYaml(request.body!), { name: HOSTILE, count: 42, ok: true, tags: ['a', 'b "c"'], none: null });
  });

  it('form: values are form-encoded', async () => {
    const request = await build({ format: 'form', body: 'name={{ data.name }}&count={{ data.count }}' });
    const params = new URLSearchParams(request.body!);
    assert.equal(params.get('name'), HOSTILE);
    assert.equal(params.get('count'), '42');
  });

  it('text: sent exactly as rendered', async () => {
    const request = await build({ format: 'text', body: 'Call from {{ data.name }}' });
    assert.equal(request.body, `Call from ${HOSTILE}`);
  });

  it('raw opts out of escaping', async () => {
    const request = await build({ body: '{"html": "{{ data.snippet | raw }}"}' });
    assert.equal(request.body, '{"html": ""}');
    const xml = await build({ format: 'xml', body: '<a>{{ "<b>bold</b>" | raw }}</a>' });
    assert.equal(xml.body, '<a><b>bold</b></a>');
  });

  it('without a body template, a JSON body is the event message itself', async () => {
    const request = await build({});
    assert.deepEqual(JSON.parse(request.body!), event);
  });
});

describe('content types', () => {
  const cases = [
    { format: 'json', expected: 'application/json; charset=utf-8' },
    { format: 'xml', expected: 'application/xml; charset=utf-8' },
    { format: 'text', expected: 'text/plain; charset=utf-8' },
    { format: 'csv', expected: 'text/csv; charset=utf-8' },
    { format: 'yaml', expected: 'application/yaml; charset=utf-8' },
    { format: 'form', expected: 'application/x-www-form-urlencoded' },
  ];
  for (const { format, expected } of cases) {
    it(`${format} defaults to ${expected}`, async () => {
      const request = await build({ format, body: { json: '{}', xml: '<a/>', yaml: 'a: 1' }[format] ?? 'x' });
      assert.equal(request.headers['Content-Type'], expected);
    });
  }

  it("the webhook's own Content-Type wins, whatever its case", async () => {
    const request = await build({ body: '{}', headers: { 'content-type': 'application/vnd.api+json' } });
    assert.equal(request.headers['content-type'], 'application/vnd.api+json');
    assert.equal(request.headers['Content-Type'], undefined);
  });

  for (const method of ['GET', 'HEAD']) {
    it(`${method} has no body and no default Content-Type`, async () => {
      const request = await build({ method, body: '{"ignored": true}' });
      assert.equal(request.body, undefined);
      assert.equal(request.headers['Content-Type'], undefined);
    });
  }
});

describe('URL, query and headers', () => {
  it('percent-encodes values in the URL path', async () => {
    const request = await build({ url: 'https://example.com/calls/{{ data.name }}/x' });
    assert.equal(new URL(request.url).pathname, `/calls/${encodeURIComponent(HOSTILE)}/x`);
    assert.equal(decodeURIComponent(new URL(request.url).pathname.split('/')[2]!), HOSTILE);
  });

  it('encodes each query value as one whole value and keeps the URL own query', async () => {
    const request = await build({ url: 'https://example.com/x?fixed=1', query: { who: '{{ data.name }}', n: '{{ data.count }}', 'odd key&': 'a=b' } });
    const url = new URL(request.url);
    assert.equal(url.searchParams.get('fixed'), '1');
    assert.equal(url.searchParams.get('who'), HOSTILE);
    assert.equal(url.searchParams.get('n'), '42');
    assert.equal(url.searchParams.get('odd key&'), 'a=b');
  });

  it('renders header templates and always sends the three standard headers', async () => {
    const request = await build({ headers: { 'X-Call': '{{ event.id }}-{{ data.count }}', 'User-Agent': 'spoofed' } });
    assert.equal(request.headers['X-Call'], 'evt_1-42');
    for (const [name, value] of Object.entries(STANDARD_HEADERS)) assert.equal(request.headers[name], value);
    assert.match(request.headers['User-Agent']!, /^hookshape\/\d+\.\d+\.\d+/);
  });

  it('reads secrets and remembers which headers used them', async () => {
    const request = await build({ headers: { Authorization: 'Bearer {{ secrets.TOKEN }}' } }, { TOKEN: 's3cr3t-value' });
    assert.equal(request.headers.Authorization, 'Bearer s3cr3t-value');
    assert.deepEqual(request.secretHeaders, ['Authorization']);
    assert.deepEqual(request.secretValues, ['s3cr3t-value']);
  });

  it('sets the timeout from the webhook', async () => {
    assert.equal((await build({ timeoutSeconds: 3 })).timeoutMs, 3000);
  });
});

describe('invalid webhooks get a message that points at the template', () => {
  const cases: Array<{ name: string; fields: Record<string, unknown>; message: RegExp }> = [
    { name: 'undefined filter', fields: { url: 'https://example.com/{{ data.name | jsn }}' }, message: /^url: template error at line 1, column \d+: undefined filter 'jsn'/ },
    { name: 'unclosed tag on line 2', fields: { body: '{\n{% if data.ok %}\n}' }, message: /^body: template error at line 2, column \d+: tag .* not closed/ },
    { name: 'relative URL', fields: { url: '/just/a/path' }, message: /url: template error: renders to '\/just\/a\/path', which is not an absolute URL/ },
    { name: 'non-http URL', fields: { url: 'ftp://example.com/x' }, message: /only http and https/ },
    { name: 'host from event data', fields: { url: 'https://{{ data.name }}.example.com/x' }, message: /scheme, host and port must be literal text or \{\{ secrets.NAME \}\}/ },
    { name: 'whole URL from event data', fields: { url: '{{ data.url }}' }, message: /scheme, host and port/ },
    { name: 'host suffix from event data after a secret', fields: { url: '{{ secrets.BASE }}{{ data.path }}' }, message: /scheme, host and port/ },
    { name: 'CRLF in a header value', fields: { headers: { 'X-Name': '{{ data.name }}' } }, message: /headers\.X-Name: .*U\+000a.*not allowed in a header/ },
    { name: 'invalid header name', fields: { headers: { 'Bad Name': 'x' } }, message: /not a valid header name/ },
    { name: 'framing header', fields: { headers: { 'Content-Length': '5' } }, message: /Content-Length is set by the HTTP client/ },
    { name: 'JSON broken by an unquoted string', fields: { body: '{"name": {{ data.name }}}' }, message: /^body: template error: the rendered body is not valid JSON at line 1, column \d+ of the rendered body: .*\| json/ },
    { name: 'XML not well-formed', fields: { format: 'xml', body: '<a>{{ data.count }}</b>' }, message: /not valid XML at line 1/ },
    { name: 'YAML broken', fields: { format: 'yaml', body: 'a: [1,\nb: {{ data.count }}' }, message: /not valid YAML/ },
    { name: 'include of a file', fields: { body: "{% include '/etc/passwd' %}" }, message: /include tag is not available/ },
    { name: 'render of a file', fields: { body: "{% render 'x' %}" }, message: /render tag is not available/ },
    { name: 'layout of a file', fields: { body: "{% layout 'x' %}" }, message: /layout tag is not available/ },
  ];
  for (const { name, fields, message } of cases) {
    it(name, async () => assert.match(await buildError(fields), message));
  }

  it('a secret holding a base URL without | raw gets a hint', async () => {
    const built = await buildRequest(webhook({ url: '{{ secrets.BASE_URL }}/x' }), event, { BASE_URL: 'https://b.example.com' }, engine);
    assert.ok(!built.ok);
    assert.match(built.error.message, /\{\{ secrets.BASE_URL \| raw \}\}/);
  });

  it('backupUrl errors name the backupUrl field', async () => {
    const built = await buildRequest(webhook({ backupUrl: 'https://{{ data.name }}/' }), event, {}, engine, 'backup');
    assert.ok(!built.ok && /^backupUrl: /.test(built.error.message), built.ok ? 'built' : built.error.message);
  });
});

describe('host lock allows what the author controls', () => {
  const allowed = [
    'https://api.example.com/v0/{{ data.name }}/records',
    'https://api.example.com?q={{ data.name }}',
    'https://{{ secrets.HOST }}/calls/{{ event.id }}',
    '{{ secrets.BASE_URL | raw }}/calls/{{ event.id }}',
    '{{- secrets.BASE_URL | raw -}}/x',
    'http://127.0.0.1:8080/{{ webhook.id }}',
  ];
  for (const url of allowed) {
    it(url, async () => {
      const built = await buildRequest(webhook({ url }), event, { HOST: 'h.example.com', BASE_URL: 'https://b.example.com' }, engine);
      assert.ok(built.ok, built.ok ? '' : built.error.message);
    });
  }
});

describe('template sandbox', () => {
  it('cannot reach prototype properties', async () => {
    const request = await build({ format: 'text', body: '[{{ data.constructor }}][{{ data.__proto__ }}][{{ data.name.constructor.name }}][{{ data.tags.constructor }}][{{ event.toString }}]' });
    assert.equal(request.body, '[][][][][]');
  });

  it('stops an endless loop', async () => {
    const message = await buildError({ format: 'text', body: '{% for i in (1..100000000) %}{% for j in (1..100000000) %}x{% endfor %}{% endfor %}' });
    assert.match(message, /^body: template error/);
  });

  it('stops exponential growth', async () => {
    const message = await buildError({ format: 'text', body: '{% assign s = "xxxxxxxxxx" %}{% for i in (1..64) %}{% assign s = s | append: s %}{% endfor %}{{ s | size }}' });
    assert.match(message, /^body: template error/);
  });

  it('refuses an oversized template', async () => {
    assert.match(await buildError({ format: 'text', body: 'x'.repeat(70 * 1024) }), /^body: template error/);
  });

  it('refuses an oversized rendered body', async () => {
    const message = await buildError({ format: 'text', body: `{% for i in (1..600) %}${'x'.repeat(1000)}{% endfor %}` });
    assert.match(message, /^body: template error: the rendered body is 600000 bytes; the limit is 524288/);
  });
});

describe('Standard Webhooks signing', () => {
  const secret = `whsec_${Buffer.alloc(32, 7).toString('base64')}`;

  it('signs id.timestamp.body so that the standard library verifies it', async () => {
    const now = new Date();
    const built = await buildRequest(webhook({ signingSecretName: 'SIGNING', body: '{"n": {{ data.count }}}' }), event, { SIGNING: secret }, engine, 'primary', now);
    assert.ok(built.ok, built.ok ? '' : built.error.message);
    const { headers, body } = built.request;
    assert.equal(headers['webhook-id'], event.id);
    assert.equal(headers['webhook-timestamp'], String(Math.floor(now.getTime() / 1000)));
    assert.match(headers['webhook-signature']!, /^v1,[A-Za-z0-9+/]+=*$/);
    assert.deepEqual(new Webhook(secret).verify(body!, headers), { n: 42 });
    assert.throws(() => new Webhook(secret).verify(body!.replace('42', '43'), headers), /No matching signature/);
  });

  describe("a rotation's overlap (previousSigningSecret)", () => {
    const previousSecret = `whsec_${Buffer.alloc(32, 8).toString('base64')}`;
    // The standard's library refuses timestamps more than 5 minutes from its clock: signed now.
    const now = new Date();
    const rotated = (previous: unknown) => webhook({ signingSecretName: 'SIGNING', body: '{"n": {{ data.count }}}', previousSigningSecret: previous });
    const signed = async (config: WebhookConfig, secrets: Record<string, string>, at = now) => {
      const built = await buildRequest(config, event, secrets, engine, 'primary', at);
      assert.ok(built.ok, built.ok ? '' : built.error.message);
      return built.request;
    };

    it('until its time, each request carries a signature per secret: a receiver on either verifies it', async () => {
      const request = await signed(rotated({ name: 'SIGNING_PREVIOUS', until: new Date(now.getTime() + 1000) }), { SIGNING: secret, SIGNING_PREVIOUS: previousSecret });
      assert.match(request.headers['webhook-signature']!, /^v1,[A-Za-z0-9+/]+=* v1,[A-Za-z0-9+/]+=*$/);
      for (const key of [secret, previousSecret]) assert.deepEqual(new Webhook(key).verify(request.body!, request.headers), { n: 42 }, key);
      assert.throws(() => new Webhook(`whsec_${Buffer.alloc(32, 9).toString('base64')}`).verify(request.body!, request.headers), /No matching signature/);
    });

    it('as a Firestore Timestamp or an ISO text (a document as stored or typed in the console)', async () => {
      const later = new Date(now.getTime() + 60_000);
      for (const until of [{ toDate: () => later }, later.toISOString()]) {
        const request = await signed(rotated({ name: 'SIGNING_PREVIOUS', until }), { SIGNING: secret, SIGNING_PREVIOUS: previousSecret });
        assert.equal(request.headers['webhook-signature']!.split(' ').length, 2, JSON.stringify(until));
      }
    });

    const single: Array<{ name: string; previous: unknown; secrets: Record<string, string> }> = [
      { name: 'after its time', previous: { name: 'SIGNING_PREVIOUS', until: now }, secrets: { SIGNING: secret, SIGNING_PREVIOUS: previousSecret } },
      { name: 'when the previous secret is gone', previous: { name: 'SIGNING_PREVIOUS', until: new Date(now.getTime() + 1000) }, secrets: { SIGNING: secret } },
      { name: 'when the previous secret is not a signing key', previous: { name: 'SIGNING_PREVIOUS', until: new Date(now.getTime() + 1000) }, secrets: { SIGNING: secret, SIGNING_PREVIOUS: 'not a key' } },
      { name: 'when it is the same key', previous: { name: 'SIGNING_PREVIOUS', until: new Date(now.getTime() + 1000) }, secrets: { SIGNING: secret, SIGNING_PREVIOUS: secret } },
      { name: 'when the field is malformed', previous: { name: 'not a name!', until: 'tomorrow' }, secrets: { SIGNING: secret, SIGNING_PREVIOUS: previousSecret } },
    ];
    for (const { name, previous, secrets } of single) {
      it(`one signature, the current secret's, ${name}`, async () => {
        const request = await signed(rotated(previous), secrets);
        assert.match(request.headers['webhook-signature']!, /^v1,[A-Za-z0-9+/]+=*$/);
        assert.deepEqual(new Webhook(secret).verify(request.body!, request.headers), { n: 42 });
      });
    }
  });

  it('sends no signature headers when the webhook has no signing secret', async () => {
    const request = await build({});
    assert.equal(request.headers['webhook-signature'], undefined);
  });

  const bad: Array<{ name: string; secrets: Record<string, string>; message: RegExp }> = [
    { name: 'a missing secret', secrets: {}, message: /^signingSecretName: template error: the account has no secret named SIGNING/ },
    { name: 'a key too short', secrets: { SIGNING: 'whsec_c2hvcnQ=' }, message: /the secret SIGNING must be whsec_ followed by the base64 of 24 to 64 random bytes/ },
    { name: 'a key that is not base64', secrets: { SIGNING: 'not base64 at all!' }, message: /must be whsec_/ },
  ];
  for (const { name, secrets, message } of bad) {
    it(`makes the delivery invalid on ${name}`, async () => {
      const built = await buildRequest(webhook({ signingSecretName: 'SIGNING' }), event, secrets, engine);
      assert.ok(!built.ok);
      assert.match(built.error.message, message);
    });
  }
});

describe('a webhook version is prepared once and rendered per event', () => {
  const other: EventMessage = { ...event, id: 'evt_2', data: { ...event.data, name: 'Bo', count: 7 } };

  it('the same webhook object renders each event with its own data, headers and signature', async () => {
    const secrets = { TOKEN: 'tok_secret_1', SIGNING: `whsec_${Buffer.alloc(32, 7).toString('base64')}` };
    const config = webhook({
      url: 'https://example.com/calls/{{ data.count }}',
      query: { who: '{{ data.name }}' },
      headers: { Authorization: 'Bearer {{ secrets.TOKEN }}', 'X-Count': '{{ data.count }}' },
      body: '{"name": "{{ data.name }}"}',
      signingSecretName: 'SIGNING',
    });
    const first = await buildRequest(config, event, secrets, engine);
    const second = await buildRequest(config, other, secrets, engine);
    assert.ok(first.ok && second.ok);
    assert.equal(second.request.url, 'https://example.com/calls/7?who=Bo');
    assert.equal(second.request.headers['X-Count'], '7');
    assert.deepEqual(JSON.parse(second.request.body!), { name: 'Bo' });
    assert.equal(second.request.headers['webhook-id'], 'evt_2');
    assert.notEqual(first.request.headers['webhook-signature'], second.request.headers['webhook-signature']);
    assert.deepEqual(second.request.secretHeaders, ['Authorization']);
    // Each request owns its headers: building another must not change one already built.
    assert.equal(first.request.headers['X-Count'], '42');
  });

  it('a changed document (a new object) renders its new templates', async () => {
    const before = await buildRequest(webhook({ body: '{"v": 1}' }), event, {}, engine);
    const after = await buildRequest(webhook({ body: '{"v": 2}' }), event, {}, engine);
    assert.ok(before.ok && after.ok);
    assert.equal(after.request.body, '{"v": 2}');
  });

  it('a problem found once is reported again, with the same words, on every build', async () => {
    const config = webhook({ headers: { 'Bad Name': 'x' }, body: '{"a": {{ data.name | jsn }}}' });
    const first = await buildRequest(config, event, {}, engine);
    const second = await buildRequest(config, other, {}, engine);
    assert.ok(!first.ok && !second.ok);
    assert.equal(second.error.message, first.error.message);
    assert.match(second.error.message, /^headers\.Bad Name: template error: 'Bad Name' is not a valid header name$/);
  });

  it('problems are reported in the order the request is built: a header value before a later header name', async () => {
    const message = await buildError({ headers: { 'X-First': '{{ data.name }}', 'Bad Name': 'x' } });
    assert.match(message, /^headers\.X-First: .*U\+000a/);
  });

  it('the backup URL of a webhook already built for its primary is prepared on its own', async () => {
    const config = webhook({ backupUrl: 'https://backup.example.com/{{ data.count }}' });
    const primary = await buildRequest(config, event, {}, engine, 'primary');
    const backup = await buildRequest(config, event, {}, engine, 'backup');
    assert.ok(primary.ok && backup.ok);
    assert.equal(primary.request.url, 'https://example.com/hook');
    assert.equal(backup.request.url, 'https://backup.example.com/42');
    const missing = await buildRequest(webhook({}), event, {}, engine, 'backup');
    assert.ok(!missing.ok);
    assert.equal(missing.error.message, 'backupUrl: template error: is not set');
  });

  it('deliveries of one new version that start together share one preparation', async () => {
    class CountingEngine extends TemplateEngine {
      prepares = 0;
      override prepare(...args: Parameters<TemplateEngine['prepare']>) {
        this.prepares++;
        return super.prepare(...args);
      }
    }
    const counting = new CountingEngine();
    const config = webhook({ headers: { 'X-Count': '{{ data.count }}' }, body: '{"n": {{ data.count }}}' });
    const built = await Promise.all(Array.from({ length: 20 }, () => buildRequest(config, event, {}, counting)));
    assert.ok(built.every((result) => result.ok && result.request.body === '{"n": 42}' && result.request.headers['X-Count'] === '42'));
    assert.equal(counting.prepares, 3); // the URL, one header, the body: once for all 20
  });

  it('a preparation that failed is not kept: the next delivery of the version prepares again', async () => {
    // Not a template error (those are kept and reported): the engine itself failing, e.g. a parser
    // that could not be loaded. The first delivery fails with it; a shared broken plan would fail all.
    class FailingOnceEngine extends TemplateEngine {
      failures = 1;
      override prepare(...args: Parameters<TemplateEngine['prepare']>) {
        if (this.failures-- > 0) throw new Error('the engine could not load');
        return super.prepare(...args);
      }
    }
    const failing = new FailingOnceEngine();
    const config = webhook({ body: '{"n": {{ data.count }}}' });
    await assert.rejects(buildRequest(config, event, {}, failing), /the engine could not load/);
    const retried = await buildRequest(config, event, {}, failing);
    assert.ok(retried.ok && retried.request.body === '{"n": 42}');
  });

  it('an engine other than the one that prepared the webhook renders with its own templates', async () => {
    const config = webhook({ body: '{"n": "{{ data.name }}"}' });
    const fresh = new TemplateEngine();
    await buildRequest(config, event, {}, engine);
    const built = await buildRequest(config, other, {}, fresh);
    assert.ok(built.ok);
    assert.equal(built.request.body, '{"n": "Bo"}');
    assert.equal(fresh.cachedTemplates > 0, true);
  });
});

describe('what data cannot do to the URL, found by an audit of the rendering', () => {
  const withData = (data: Record<string, unknown>): EventMessage => ({ ...event, data: { ...event.data, ...data } });
  const buildWith = (fields: Record<string, unknown>, data: Record<string, unknown>) => buildRequest(webhook(fields), withData(data), {}, engine);

  it("a '.' or '..' from data in the path is refused (new URL would move the request up the receiver's paths)", async () => {
    for (const id of ['.', '..']) {
      const built = await buildWith({ method: 'DELETE', url: 'https://api.example.com/v1/users/{{ data.id }}' }, { id });
      assert.equal(built.ok, false, `id ${id}`);
      assert.match(built.ok ? '' : `${built.error.field}: ${built.error.message}`, /^url: .*segment 3 is '\.' or '\.\.'/);
    }
    const twoOutputs = await buildWith({ url: 'https://api.example.com/accounts/{{ data.a }}{{ data.b }}/notes' }, { a: '.', b: '.' });
    assert.equal(twoOutputs.ok, false, 'two outputs that make ".." together');
    for (const id of ['...', 'a..b', '.hidden']) {
      const built = await buildWith({ url: 'https://api.example.com/v1/users/{{ data.id }}' }, { id });
      assert.ok(built.ok, id);
      assert.equal(built.ok && built.request.url, `https://api.example.com/v1/users/${id}`);
    }
  });

  it('half an emoji (a lone surrogate) in a query value or path is sent as U+FFFD, not an internal error', async () => {
    for (const fields of [{ query: { q: '{{ data.x }}' } }, { url: 'https://example.com/hook/{{ data.x }}' }]) {
      const built = await buildWith(fields, { x: 'ab\ud83d' });
      assert.ok(built.ok, JSON.stringify(fields));
      assert.match(built.ok ? built.request.url : '', /ab%EF%BF%BD/);
    }
    const filtered = await buildWith({ format: 'text', body: 'q={{ data.x | url_component }}' }, { x: 'ab\ud83d' });
    assert.equal(filtered.ok && filtered.request.body, 'q=ab%EF%BF%BD', 'the url_component filter too');
  });

  it('the URL limit counts the query', async () => {
    const built = await buildWith({ query: { q: '{{ data.x }}' } }, { x: 'y'.repeat(10_000) });
    assert.equal(built.ok, false);
    assert.equal(built.ok ? '' : built.error.field, 'query');
    assert.match(built.ok ? '' : built.error.message, /the URL with its query is \d+ characters; the limit is 8192/);
  });

  it('objects and arrays print as JSON in headers, query values and text bodies too', async () => {
    const built = await buildWith({ format: 'text', body: 'tags={{ data.tags }} nested={{ data.nested }}', headers: { 'X-Tags': '{{ data.tags }}' }, query: { t: '{{ data.tags }}' } }, {});
    assert.ok(built.ok);
    if (!built.ok) return;
    assert.equal(built.request.body, 'tags=["a","b \\"c\\""] nested={"x":1}');
    assert.equal(built.request.headers['X-Tags'], '["a","b \\"c\\""]');
    assert.equal(new URL(built.request.url).searchParams.get('t'), '["a","b \\"c\\""]');
  });

  it("Liquid's nil, empty and blank print as nothing (null with | json), not as {}", async () => {
    const json = await buildWith({ body: '{% assign note = nil %}{"note": {{ note | json }}, "s": "{{ note }}", "e": "{{ empty }}", "d": {{ data.missing | default: nil | json }}}' }, {});
    assert.deepEqual(json.ok && JSON.parse(String(json.request.body)), { note: null, s: '', e: '', d: null });
    const text = await buildWith({ format: 'text', body: '[{{ nil }}][{{ blank }}]', headers: { 'X-Note': 'n={{ nil }}' } }, {});
    assert.equal(text.ok && text.request.body, '[][]');
    assert.equal(text.ok && text.request.headers['X-Note'], 'n=');
    const yaml = await buildWith({ format: 'yaml', body: 'a: {{ nil }}\nb: {{ data.missing | default: nil }}\n' }, {});
    assert.deepEqual(yaml.ok && parseYaml(String(yaml.request.body)), { a: null, b: null });
  });

  it('yaml: characters YAML parsers refuse (DEL, C1, NEL, separators, BOM) are escaped', async () => {
    const request = await build({ format: 'yaml', body: 'v: {{ data.v }}\n' });
    assert.ok(request);
    const built = await buildWith({ format: 'yaml', body: 'v: {{ data.v }}\nw: {{ data.w }}\n' }, { v: 'x\u007fy\u0085z\u2028', w: ['\ufeff'] });
    assert.ok(built.ok);
    const body = built.ok ? String(built.request.body) : '';
    assert.ok(!/[\u007f-\u009f\u2028\u2029\ufeff]/.test(body), JSON.stringify(body));
    assert.deepEqual(parseYaml(body), { v: 'x\u007fy\u0085z\u2028', w: ['\ufeff'] }, 'the value arrives unchanged');
  });
});
