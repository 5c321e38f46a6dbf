import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { loadConfig, ConfigError } from '../../functions/src/config/runtime-config.ts';
import { MAX_EVENT_BYTES, messageBytes, parseEventMessage } from '../../functions/src/events/event-message.ts';
import { locateJsonError } from '../../functions/src/render/json-syntax.ts';
import { VERSION } from '../../functions/src/version.ts';
import { parseWebhookConfig, secretNamesOf } from '../../functions/src/webhooks/webhook-config.ts';

const good = { id: 'evt_1', type: 'call.created', accountId: 'acc_1', occurredAt: '2026-11-23T10:00:00Z', data: { a: 1 } };
const message = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));

describe('event messages', () => {
  it('accepts the contract', () => {
    const parsed = parseEventMessage(message(good), { type: 'call.created', accountId: 'acc_1' });
    assert.deepEqual(parsed, { ok: true, event: good });
  });

  const cases: Array<{ name: string; data: Buffer | undefined; attributes?: Record<string, string>; reason: RegExp }> = [
    { name: 'no data', data: undefined, reason: /no data/ },
    { name: 'not JSON', data: message('{oops'), reason: /not UTF-8 JSON/ },
    { name: 'not UTF-8', data: Buffer.from([0x7b, 0xff, 0x7d]), reason: /not UTF-8 JSON/ },
    { name: 'unknown type', data: message({ ...good, type: 'call.exploded' }), reason: /type: 'call.exploded' is not an event type of the catalogue/ },
    { name: 'missing id', data: message({ ...good, id: undefined }), reason: /^the event does not match the schema: id: / },
    { name: 'id unsafe for a document path', data: message({ ...good, id: '../x' }), reason: /id: must be 1-200 letters/ },
    { name: 'bad date', data: message({ ...good, occurredAt: 'yesterday' }), reason: /occurredAt: must be an ISO-8601/ },
    { name: 'data not an object', data: message({ ...good, data: [1] }), reason: /data: must be a JSON object/ },
    { name: 'attribute mismatch', data: message(good), attributes: { accountId: 'acc_2' }, reason: /attribute accountId 'acc_2' does not match/ },
    { name: 'too large', data: message({ ...good, data: { big: 'x'.repeat(MAX_EVENT_BYTES) } }), reason: /limit is 262144/ },
  ];
  for (const { name, data, attributes, reason } of cases) {
    it(`refuses: ${name}`, () => {
      const parsed = parseEventMessage(data, attributes);
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : parsed.reason, reason);
    });
  }
});

describe('push message data', () => {
  it('is decoded into memory of its own, never a slice of the shared pool a held event would keep alive', () => {
    for (const text of ['', 'x', JSON.stringify(good), 'é😀'.repeat(40), 'y'.repeat(9000)]) {
      const bytes = messageBytes(Buffer.from(text).toString('base64'));
      assert.equal(bytes.toString('utf8'), text);
      assert.equal(bytes.buffer.byteLength, bytes.byteLength, `${bytes.byteLength} bytes`);
      assert.equal(bytes.byteOffset, 0);
    }
    assert.ok(Buffer.from(Buffer.from(JSON.stringify(good)).toString('base64'), 'base64').buffer.byteLength > 1000, 'Buffer.from pools small results (the premise)');
  });
});

describe('webhook documents', () => {
  it('fills the defaults', () => {
    const parsed = parseWebhookConfig('acc_1', 'wh_1', { name: 'n', events: ['call.created'], url: 'https://x.example/' });
    assert.ok(parsed.ok);
    assert.deepEqual(
      { ...parsed.webhook },
      { id: 'wh_1', accountId: 'acc_1', name: 'n', enabled: true, events: ['call.created'], method: 'POST', url: 'https://x.example/', query: {}, headers: {}, format: 'json', body: undefined, backupUrl: undefined, timeoutSeconds: 10, signingSecretName: undefined },
    );
  });

  it('accepts lower-case method and format as typed in the console', () => {
    const parsed = parseWebhookConfig('a', 'w', { name: 'n', events: ['call.created'], url: 'https://x/', method: 'put', format: 'XML', body: '<a/>' });
    assert.ok(parsed.ok && parsed.webhook.method === 'PUT' && parsed.webhook.format === 'xml');
  });

  const cases: Array<{ name: string; doc: unknown; reason: RegExp }> = [
    { name: 'no fields', doc: {}, reason: /^webhook wh_1: name: must be a text.*events: must be an array.*url: must be a text/ },
    { name: 'unknown event', doc: { name: 'n', events: ['call.creatd'], url: 'u' }, reason: /events\[0\]: 'call.creatd' is not an event type/ },
    { name: 'bad method', doc: { name: 'n', events: ['call.created'], url: 'u', method: 'FETCH' }, reason: /method: must be one of POST, GET/ },
    { name: 'bad format', doc: { name: 'n', events: ['call.created'], url: 'u', format: 'toml' }, reason: /format: must be one of json, xml/ },
    { name: 'timeout too long', doc: { name: 'n', events: ['call.created'], url: 'u', timeoutSeconds: 60 }, reason: /timeoutSeconds: must be at most 30/ },
    { name: 'header not a template', doc: { name: 'n', events: ['call.created'], url: 'u', headers: { A: 1 } }, reason: /headers\.A: must be a text template/ },
    { name: 'a signing key pasted instead of its name', doc: { name: 'n', events: ['call.created'], url: 'u', signingSecretName: 'whsec_abc+/=' }, reason: /signingSecretName: must be the name of a secret .* not the secret itself/ },
    { name: 'xml without body', doc: { name: 'n', events: ['call.created'], url: 'u', format: 'xml' }, reason: /body: is required for format xml/ },
  ];
  for (const { name, doc, reason } of cases) {
    it(`refuses: ${name}`, () => {
      const parsed = parseWebhookConfig('acc_1', 'wh_1', doc);
      assert.equal(parsed.ok, false);
      assert.match(parsed.ok ? '' : parsed.reason, reason);
    });
  }
});

describe('the secrets a webhook names (its store reads again when one is missing)', () => {
  const named = (fields: Record<string, unknown>) => {
    const parsed = parseWebhookConfig('acc_1', 'wh_1', { name: 'n', events: ['call.created'], url: 'https://example.com', ...fields });
    assert.ok(parsed.ok, parsed.ok ? '' : parsed.reason);
    return secretNamesOf(parsed.webhook);
  };

  it('signing, a rotation\'s previous signing secret and each kind of auth; none when it names none', () => {
    assert.deepEqual(named({}), []);
    assert.deepEqual(named({ signingSecretName: 'SIGNING', previousSigningSecret: { name: 'SIGNING_PREVIOUS', until: new Date() } }), ['SIGNING', 'SIGNING_PREVIOUS']);
    assert.deepEqual(named({ auth: { type: 'basic', username: 'u', passwordSecretName: 'PASSWORD' } }), ['PASSWORD']);
    assert.deepEqual(named({ auth: { type: 'bearer', tokenSecretName: 'TOKEN' } }), ['TOKEN']);
    assert.deepEqual(named({ auth: { type: 'header', name: 'X-Key', valueSecretName: 'KEY' } }), ['KEY']);
    assert.deepEqual(named({ auth: { type: 'oauth2', tokenUrl: 'https://auth.example.com/token', clientId: 'c', clientSecretName: 'CLIENT' } }), ['CLIENT']);
  });

  it('of a document as stored, even one that does not parse (what the signing-secret route stamps): the same names, nothing thrown', () => {
    assert.deepEqual(secretNamesOf({ signingSecretName: 'SIGNING', previousSigningSecret: { name: 'SIGNING_PREVIOUS' }, auth: { type: 'bearer', tokenSecretName: 'TOKEN' }, url: 42 }), ['SIGNING', 'SIGNING_PREVIOUS', 'TOKEN']);
    for (const broken of [{ previousSigningSecret: 'x', auth: 'bearer' }, { previousSigningSecret: null, auth: null }, { signingSecretName: 7, auth: { tokenSecretName: ['T'] } }]) assert.deepEqual(secretNamesOf(broken), [], JSON.stringify(broken));
  });
});

describe('JSON error positions', () => {
  const cases = [
    { text: '{"a": Ana}', offset: 6, message: /expected a value but found 'A'/ },
    { text: '{"a": 1,\n "b" 2}', offset: 14, message: /expected ':'/ },
    { text: '{"a": "x\ny"}', offset: 8, message: /control character/ },
    { text: '[1, 2', offset: 5, message: /the end of the body/ },
    { text: '{"a": 1} x', offset: 9, message: /after the end/ },
  ];
  for (const { text, offset, message } of cases) {
    it(JSON.stringify(text), () => {
      assert.throws(() => JSON.parse(text));
      const located = locateJsonError(text);
      assert.equal(located.offset, offset);
      assert.match(located.message, message);
    });
  }
});

describe('configuration', () => {
  it('has defaults for a local run', () => {
    const config = loadConfig({});
    assert.equal(config.eventsTopic, 'hookshape-events');
    assert.equal(config.retry.baseDelaySeconds, 60);
    assert.equal(config.allowLoopbackDestinations, false);
  });
  it('reads overrides and refuses nonsense', () => {
    assert.equal(loadConfig({ RETRY_BASE_DELAY_SECONDS: '1', ALLOW_LOOPBACK_DESTINATIONS: 'true' }).retry.baseDelaySeconds, 1);
    assert.throws(() => loadConfig({ RETRY_BASE_DELAY_SECONDS: 'soon' }), ConfigError);
    assert.throws(() => loadConfig({ ALLOW_LOOPBACK_DESTINATIONS: 'maybe' }), ConfigError);
  });
  it('the product version in the headers is the package version', () => {
    assert.equal(VERSION, JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version);
  });
});
