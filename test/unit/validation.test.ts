import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { demoWebhook } from '../../functions/dev/demo-webhook.ts';
import { webhookOfEvent } from '../../functions/src/entry/validate-webhook-handler.ts';
import { TemplateEngine } from '../../functions/src/render/template-engine.ts';
import { webhookConfigHash } from '../../functions/src/validation/config-hash.ts';
import { failedValidation } from '../../functions/src/validation/validate-stored-webhook.ts';
import { validateWebhookDocument, webhookPlaceholderSecrets, type ValidationIssue } from '../../functions/src/validation/validate-webhook.ts';

const engine = new TemplateEngine();
const validate = (document: unknown) => validateWebhookDocument(document, { accountId: 'acc_1', webhookId: 'crm', engine, now: new Date('2026-01-01T00:00:00Z') });
const base = { name: 'CRM', events: ['call.created'], url: 'https://crm.example.com/calls/{{ data.call.id }}' };

type Expected = Partial<Omit<ValidationIssue, 'message'>> & { message: RegExp };

const cases: Array<{ name: string; document: unknown; errors?: Expected[]; warnings?: Expected[] }> = [
  { name: 'the demo webhook', document: demoWebhook('https://api.airtable.com/v0/appX/Calls') },
  { name: 'a minimal document (the event as JSON)', document: base },
  { name: 'not a map', document: ['x'], errors: [{ field: '', message: /must be a map of fields/ }] },
  {
    name: 'schema errors, one per field',
    document: { ...base, events: ['call.created', 'call.exploded'], method: 'FETCH', timeoutSeconds: 90 },
    errors: [
      { field: 'events[1]', message: /^events\[1\]: 'call.exploded' is not an event type of the catalogue$/ },
      { field: 'method', message: /^method: must be one of POST/ },
      { field: 'timeoutSeconds', message: /^timeoutSeconds: must be at most 30$/ },
    ],
  },
  { name: 'a body required by the format', document: { ...base, format: 'xml' }, errors: [{ field: 'body', message: /body: is required for format xml/ }] },
  {
    name: 'a template that does not compile, with its line and column, even when the schema fails too',
    document: { ...base, method: 'FETCH', body: '{\n"a": {{ data.call.id | jsn }}\n}' },
    errors: [
      { field: 'method', message: /^method:/ },
      { field: 'body', line: 2, column: 6, eventType: null, message: /^body: template error at line 2, column 6: undefined filter 'jsn'$/ },
    ],
  },
  { name: 'an unclosed tag', document: { ...base, headers: { 'X-Tags': '{% for t in data.tags %}{{ t }}' } }, errors: [{ field: 'headers.X-Tags', line: 1, message: /headers.X-Tags: template error at line 1.*not closed/ }] },
  { name: 'the host lock', document: { ...base, url: 'https://{{ data.customer.email }}/x' }, errors: [{ field: 'url', message: /scheme, host and port must be literal text or \{\{ secrets.NAME \}\}/ }] },
  { name: 'a URL that is not absolute', document: { ...base, url: 'crm.example.com/calls' }, errors: [{ field: 'url', eventType: 'call.created', message: /not an absolute URL \(rendering the call.created sample\)$/ }] },
  { name: 'a backup URL that is not http(s)', document: { ...base, backupUrl: 'ftp://files.example.com/x' }, errors: [{ field: 'backupUrl', message: /only http and https are allowed/ }] },
  { name: 'a reserved header', document: { ...base, headers: { Host: 'evil.example' } }, errors: [{ field: 'headers.Host', message: /set by the HTTP client/ }] },
  { name: 'a header value with a line break', document: { ...base, headers: { 'X-Name': "{{ data.customer.name }}{{ '\n' }}Injected: 1" } }, errors: [{ field: 'headers.X-Name', message: /U\+000a/ }] },
  {
    name: 'a JSON body that does not parse for the sample',
    document: { ...base, body: '{"customer": {{ data.customer.name }}}' },
    errors: [{ field: 'body', eventType: 'call.created', message: /not valid JSON at line 1, column 14 of the rendered body.*\| json/ }],
  },
  { name: 'an XML body that does not parse', document: { ...base, format: 'xml', body: '<call><id>{{ data.call.id }}</call>' }, errors: [{ field: 'body', message: /not valid XML/ }] },
  {
    name: 'a base URL in a secret without | raw is caught (the placeholder is a URL)',
    document: { ...base, url: '{{ secrets.BASE_URL }}/calls' },
    errors: [{ field: 'url', message: /which is not an absolute URL \(a value holding a whole base URL must be written \{\{ secrets.BASE_URL \| raw \}\}/ }],
  },
  { name: 'a base URL in a secret with | raw', document: { ...base, url: '{{ secrets.BASE_URL | raw }}/calls', headers: { Authorization: 'Bearer {{ secrets.TOKEN }}' } } },
  { name: 'a port kept in a secret (its placeholder is a port, not text)', document: { ...base, url: 'https://api.example.com:{{ secrets.PORT }}/calls', backupUrl: 'https://backup.example.com:{{secrets.BACKUP_PORT}}/calls' } },
  { name: 'a signing secret is checked by name only', document: { ...base, signingSecretName: 'SIGNING_SECRET' } },
  { name: 'a signing secret given as a value', document: { ...base, signingSecretName: 'whsec_abc+/=' }, errors: [{ field: 'signingSecretName', message: /not the secret itself/ }] },
  {
    name: 'an internal host in the url: named, with the reason (send/internal-hosts.ts)',
    document: { ...base, url: 'http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token' },
    errors: [{ field: 'url', line: null, eventType: null, message: /^url: the host metadata\.google\.internal is the name of Google Cloud's metadata server.*deliveries would be refused\)$/ }],
  },
  { name: 'an internal host spelt in upper case with a trailing dot', document: { ...base, url: 'https://API.Internal.:8443/x' }, errors: [{ field: 'url', message: /^url: the host api\.internal is under \.internal/ }] },
  { name: 'an internal host in the backupUrl', document: { ...base, backupUrl: 'http://metadata/x' }, errors: [{ field: 'backupUrl', message: /^backupUrl: the host metadata is the name of Google Cloud's metadata server/ }] },
  { name: 'a single-label host behind userinfo', document: { ...base, url: 'https://user:{{ secrets.PASS }}@vm-1/x' }, errors: [{ field: 'url', message: /^url: the host vm-1 is a single-label name/ }] },
  { name: 'localhost, in the production setting', document: { ...base, url: 'http://localhost:8080/hook' }, errors: [{ field: 'url', message: /^url: the host localhost is a loopback name .*ALLOW_LOOPBACK_DESTINATIONS=true/ }] },
  {
    name: 'a host under an internal suffix whatever the secret before it holds',
    document: { ...base, url: 'https://{{ secrets.TENANT }}.svc.cluster.local/x' },
    errors: [{ field: 'url', message: /^url: the host \{\{ secrets\.TENANT \}\}\.svc\.cluster\.local is under \.local/ }],
  },
  { name: 'a host wholly from a secret is judged at send, not here', document: { ...base, url: 'https://{{ secrets.HOST }}/x', backupUrl: 'https://api.{{ secrets.DOMAIN }}/x' } },
  { name: 'public names that only look internal', document: { ...base, url: 'https://internal.example.com/x', backupUrl: 'https://mylocalhost.com/metadata.google.internal' } },
  {
    name: 'warnings: a misspelt field, unknown variables; still ok',
    document: { ...base, heders: { 'X-A': '1' }, body: '{"a": "{{ data.call.idd }}", "b": "{{ call.id }}", "c": "{{ event.idd }}", "d": {{ data.tags | json }}, "e": "{{ data.tags[0] }}{{ data.tags.size }}{{ data.recording.url }}"}' },
    warnings: [
      { field: 'heders', message: /^heders: is not a webhook field and is ignored \(did you mean headers\?\)$/ },
      { field: 'body', line: 1, column: 11, eventType: 'call.created', message: /body at line 1, column 11: data.call.idd is not a variable of call.created: it renders empty/ },
      { field: 'body', message: /call.id is not a variable: templates see event, data, webhook and secrets \(e.g. data.call.id\)/ },
      { field: 'body', message: /event.idd is not a variable: event has id, type, accountId, occurredAt/ },
    ],
  },
];

function assertIssues(actual: ValidationIssue[], expected: Expected[], what: string) {
  assert.equal(actual.length, expected.length, `${what}: ${JSON.stringify(actual, null, 1)}`);
  expected.forEach((want, index) => {
    const got = actual[index]!;
    assert.match(got.message, want.message, `${what} ${index}`);
    for (const key of ['field', 'line', 'column', 'eventType'] as const) if (key in want) assert.equal(got[key], want[key], `${what} ${index} ${key}`);
  });
}

describe('validateWebhookDocument', () => {
  for (const { name, document, errors = [], warnings = [] } of cases) {
    it(name, async () => {
      const report = await validate(document);
      assertIssues(report.errors, errors, 'errors');
      assertIssues(report.warnings, warnings, 'warnings');
      assert.equal(report.ok, errors.length === 0);
    });
  }

  it('reports a problem once across events and targets, with the first event it failed for', async () => {
    const report = await validate({ ...base, events: ['call.created', 'queue.created'], backupUrl: 'https://backup.example.com/x', body: '{"x": {{ data.nothing }}}' });
    assert.equal(report.errors.length, 1, JSON.stringify(report.errors));
    assert.equal(report.errors[0]?.eventType, 'call.created');
  });

  it('localhost hosts pass where loopback destinations are allowed (local stack, tests); other internal names do not', async () => {
    const validateLocally = (document: unknown) => validateWebhookDocument(document, { accountId: 'acc_1', webhookId: 'crm', engine, now: new Date('2026-01-01T00:00:00Z'), allowLoopback: true });
    assert.deepEqual((await validateLocally({ ...base, url: 'http://localhost:8080/hook', backupUrl: 'http://api.localhost:8081/hook' })).errors, []);
    const internal = await validateLocally({ ...base, url: 'http://metadata.google.internal/', backupUrl: 'http://printer.local/' });
    assert.deepEqual(internal.errors.map((e) => e.field), ['url', 'backupUrl']);
  });

  it('finds the secrets the templates read and gives them placeholders, never values', () => {
    const secrets = webhookPlaceholderSecrets({ ...base, url: '{{ secrets.BASE | raw }}/x', headers: { Authorization: 'Bearer {{ secrets.TOKEN }}', 'X-Other': '{{ secrets["OTHER"] }}' }, signingSecretName: 'SIGN' }, engine);
    assert.deepEqual(Object.keys(secrets).sort(), ['BASE', 'OTHER', 'SIGN', 'TOKEN']);
    assert.equal(secrets.TOKEN, 'placeholder-TOKEN');
    assert.equal(secrets.BASE, 'https://placeholder-base.example');
    assert.match(secrets.SIGN ?? '', /^whsec_/);
  });
});

describe('webhookConfigHash', () => {
  const doc = { name: 'n', events: ['call.created'], headers: { b: '2', a: '1' }, url: 'https://x.example/' };
  const cases: Array<{ name: string; other: Record<string, unknown>; same: boolean }> = [
    { name: 'key order does not matter', other: { url: 'https://x.example/', headers: { a: '1', b: '2' }, events: ['call.created'], name: 'n' }, same: true },
    { name: 'fields hookshape writes do not count', other: { ...doc, validation: { ok: true }, health: { consecutiveFailures: 3 }, disabled: { reason: 'x' }, enabled: false }, same: true },
    { name: 'a template change counts', other: { ...doc, url: 'https://y.example/' }, same: false },
    { name: 'a header change counts', other: { ...doc, headers: { a: '1', b: '3' } }, same: false },
    { name: 'event order counts (it is the order of the array)', other: { ...doc, events: ['call.created', 'queue.created'] }, same: false },
  ];
  for (const { name, other, same } of cases) {
    it(name, () => assert.equal(webhookConfigHash(other) === webhookConfigHash(doc), same));
  }
});

describe('failedValidation: whether the dispatcher skips a webhook', () => {
  const doc = { name: 'n', events: ['call.created'], url: 'https://x.example/' };
  const validation = (ok: boolean, of: unknown) => ({ ok, errors: ok ? [] : [{ field: 'url', line: null, column: null, message: 'url: bad', eventType: null }], warnings: [], checkedAt: new Date(), configHash: webhookConfigHash(of) });
  const cases: Array<{ name: string; data: unknown; skipped: boolean }> = [
    { name: 'never validated', data: doc, skipped: false },
    { name: 'validated ok', data: { ...doc, validation: validation(true, doc) }, skipped: false },
    { name: 'failed, same configuration', data: { ...doc, validation: validation(false, doc) }, skipped: true },
    { name: 'failed, then only health changed', data: { ...doc, health: { consecutiveFailures: 2 }, validation: validation(false, doc) }, skipped: true },
    { name: 'failed, then edited (new validation pending)', data: { ...doc, url: 'https://y.example/', validation: validation(false, doc) }, skipped: false },
    { name: 'a validation field someone typed by hand', data: { ...doc, validation: 'ok' }, skipped: false },
  ];
  for (const { name, data, skipped } of cases) {
    it(name, () => assert.equal(failedValidation(data) !== undefined, skipped));
  }
});

describe('webhookOfEvent: the document of a Firestore CloudEvent', () => {
  const cases: Array<{ name: string; event: Record<string, unknown>; expected: { accountId: string; webhookId: string } | undefined }> = [
    { name: 'subject', event: { subject: 'documents/accounts/acc_1/webhooks/crm' }, expected: { accountId: 'acc_1', webhookId: 'crm' } },
    { name: 'document attribute when there is no subject', event: { document: 'accounts/acc_1/webhooks/crm' }, expected: { accountId: 'acc_1', webhookId: 'crm' } },
    { name: 'a delivery document is not a webhook', event: { subject: 'documents/accounts/acc_1/webhooks/crm/deliveries/evt_1' }, expected: undefined },
    { name: 'another collection', event: { subject: 'documents/invalidEvents/m1' }, expected: undefined },
    { name: 'nothing', event: {}, expected: undefined },
  ];
  for (const { name, event, expected } of cases) {
    it(name, () => assert.deepEqual(webhookOfEvent(event as Parameters<typeof webhookOfEvent>[0]), expected));
  }
});

describe('"did you mean" for template variables that are not variables', () => {
  const warningsOf = async (body: string, events = ['call.created']) => (await validate({ ...base, events, body })).warnings.filter((warning) => warning.field === 'body');
  const cases: Array<{ body: string; events?: string[]; line?: number; column?: number; guess: string | null }> = [
    { body: '{"s": {{ data.call.durationSecond }}}', line: 1, column: 10, guess: 'data.call.durationSeconds' },
    { body: '{"s": {{ data.call.duration }}}', guess: 'data.call.durationSeconds' },
    { body: '{\n  "q": "{{ data.queue.nmae }}"\n}', line: 2, column: 12, guess: 'data.queue.name' },
    { body: '{"l": "{{ data.form.fields[1].lable }}"}', events: ['form.created'], guess: 'data.form.fields[1].label' },
    { body: '{"e": "{{ event.idd }}"}', guess: 'event.id' },
    { body: '{"e": "{{ evnt.type }}"}', guess: 'event.type' },
    { body: '{"e": "{{ dta.call.id }}"}', guess: 'data.call.id' },
    { body: '{"z": "{{ data.zzzzzzzzzzzzzzzzzz }}"}', guess: null },
  ];
  for (const { body, events, line, column, guess } of cases) {
    it(`${body.replace(/\s+/g, ' ')} → ${guess ?? 'no guess'}`, async () => {
      const warnings = await warningsOf(body, events);
      assert.equal(warnings.length, 1, JSON.stringify(warnings));
      const [warning] = warnings;
      if (guess) assert.ok(warning!.message.includes(`(did you mean ${guess}?)`), warning!.message);
      else assert.doesNotMatch(warning!.message, /did you mean/);
      if (line !== undefined) assert.deepEqual([warning!.line, warning!.column], [line, column]);
    });
  }

  it('a draft the schema refuses (no name yet) still hears about its variables, for the event types that are valid', async () => {
    const report = await validate({ ...base, name: '', events: ['call.created', 'toString', 'call.exploded'], body: '{"s": {{ data.call.durationSecond }}}' });
    assert.equal(report.ok, false);
    assert.deepEqual(report.errors.map((item) => item.field), ['name', 'events[1]', 'events[2]']);
    assert.equal(report.warnings.length, 1, JSON.stringify(report.warnings));
    assert.ok(report.warnings[0]!.message.includes('(did you mean data.call.durationSeconds?)'));
  });

  it('no guess when only some subscribed events lack the variable (it is right for the others)', async () => {
    const [warning] = await warningsOf('{"s": "{{ data.call.durationSeconds }}"}', ['call.created', 'queue.created']);
    assert.match(warning!.message, /is not a variable of queue\.created: it renders empty for those events/);
    assert.doesNotMatch(warning!.message, /did you mean/);
  });
});
