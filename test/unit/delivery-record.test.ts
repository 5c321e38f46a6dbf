import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attemptRecord, LOG_REQUEST_BODY_BYTES, LOG_RESPONSE_BODY_BYTES } from '../../functions/src/delivery/delivery-record.ts';
import type { OutgoingRequest } from '../../functions/src/render/build-request.ts';
import { classifyOutcome } from '../../functions/src/send/classify-outcome.ts';
import { Redactor } from '../../functions/src/log/redact.ts';
import { escapers } from '../../functions/src/render/output-escapers.ts';
import { ACCOUNT, event, webhookDocument, World } from './delivery-fakes.ts';
import type { SendResult } from '../../functions/src/send/http-sender.ts';

const SECRET = 'tok_Z9y8X7w6';
const request: OutgoingRequest = {
  method: 'POST',
  url: `https://user:pw@api.example.com/x?key=${SECRET}`,
  headers: { Authorization: `Bearer ${SECRET}`, 'X-Custom': `k-${SECRET}`, 'X-Plain': 'hello', 'Content-Type': 'application/json' },
  body: JSON.stringify({ token: SECRET, note: 'x'.repeat(LOG_REQUEST_BODY_BYTES) }),
  timeoutMs: 1000,
  secretValues: [SECRET],
  secretHeaders: ['X-Custom'],
};

function record(sent: SendResult) {
  return attemptRecord({ number: 1, target: 'primary', attemptOfTarget: 1, startedAt: new Date(), request, sent, outcome: classifyOutcome(sent, new Date()) });
}

describe('attempt records', () => {
  it('never hold a secret in clear, even echoed back by the receiver', () => {
    const echoed = `{"error": "bad token ${SECRET}", "encoded": "${encodeURIComponent(SECRET + '/')}", "b64": "${Buffer.from(SECRET).toString('base64')}"}`;
    const entry = record({ kind: 'response', status: 401, headers: { 'set-cookie': 's=1', 'x-echo': SECRET }, body: Buffer.from(echoed), truncated: false, durationMs: 3 });
    const text = JSON.stringify(entry);
    assert.ok(!text.includes(SECRET), text);
    assert.ok(!text.includes(Buffer.from(SECRET).toString('base64')));
    assert.ok(!text.includes(':pw@'));
    assert.equal(entry.request!.headers.Authorization, '[redacted]');
    assert.equal(entry.request!.headers['X-Custom'], '[redacted]');
    assert.equal(entry.request!.headers['X-Plain'], 'hello');
    assert.equal(entry.response?.headers['set-cookie'], '[redacted]');
    assert.match(entry.response?.body ?? '', /bad token \[secret\]/);
    assert.equal(entry.outcome, 'failed');
  });

  it('cut bodies at the documented sizes and say so', () => {
    const entry = record({ kind: 'response', status: 200, headers: {}, body: Buffer.alloc(LOG_RESPONSE_BODY_BYTES + 10, 'y'), truncated: true, durationMs: 3 });
    // Redacted, then cut: the kept part is the first bytes of the redacted body.
    assert.equal(entry.request!.body, Buffer.from(request.body!.replace(SECRET, '[secret]')).subarray(0, LOG_REQUEST_BODY_BYTES).toString());
    assert.equal(entry.request!.bodyTruncated, true);
    assert.equal(entry.request!.bodyBytes, Buffer.byteLength(request.body!));
    assert.equal(entry.response?.body?.length, LOG_RESPONSE_BODY_BYTES);
    assert.equal(entry.response?.bodyTruncated, true);
  });

  it('a secret the size limit would split is redacted before the cut, so no part of it is kept', () => {
    const body = `${'x'.repeat(LOG_RESPONSE_BODY_BYTES - 4)}${SECRET}`;
    const entry = record({ kind: 'response', status: 200, headers: {}, body: Buffer.from(body), truncated: false, durationMs: 3 });
    assert.equal(entry.response?.bodyTruncated, true);
    assert.ok(!(entry.response?.body ?? '').includes(SECRET.slice(0, 4)), 'not even its first bytes');
  });

  it('record transport errors', () => {
    const entry = record({ kind: 'error', code: 'ECONNRESET', message: 'socket hang up', durationMs: 3 });
    assert.deepEqual(entry.error, { code: 'ECONNRESET', message: 'socket hang up' });
    assert.equal(entry.response, null);
    assert.equal(entry.outcome, 'retryable');
  });
});

describe('the redactor knows every form a secret takes in a request', () => {
  // Characters each format escapes: &, <, >, quotes, spaces, !, ', (, ), ~, +, /, =, line breaks.
  const secrets = ["Tr0ub4dor&3 pass!word's", 'a"b<c>d e+f/g=h(i)~j', 'line1\nline2\ttab'];
  for (const mode of Object.keys(escapers) as Array<keyof typeof escapers>) {
    it(`as the ${mode} escaper writes it`, () => {
      for (const secret of secrets) {
        const written = escapers[mode](secret);
        const redacted = new Redactor([secret]).text(`before ${written} after`);
        assert.ok(!redacted.includes(written), `${mode}: ${JSON.stringify(written)} left in ${JSON.stringify(redacted)}`);
        assert.match(redacted, /\[secret\]/);
      }
    });
  }

  it('in a URL query, as new URL and URLSearchParams re-encode it', () => {
    for (const secret of secrets) {
      const fromTemplate = new URL(`https://api.example.com/x?key=${escapers.url(secret)}`).href;
      const fromQueryMap = new URL('https://api.example.com/x');
      fromQueryMap.searchParams.set('key', secret);
      for (const href of [fromTemplate, fromQueryMap.href]) assert.equal(new Redactor([secret]).url(href), 'https://api.example.com/x?key=[secret]', href);
    }
  });
});

describe('a request that does not build: its error never carries a secret', () => {
  it('a body line quoted in the error (the data made it invalid JSON) is recorded and logged redacted', async () => {
    const world = new World({ webhooks: ['wh-a'] });
    world.secrets.secrets = { KEY: 'sk_live_SECRET123' };
    world.webhooks.set(ACCOUNT, 'wh-a', webhookDocument('wh-a', { body: '{"apiKey": "{{ secrets.KEY }}", "n": {{ data.n }}}' }));
    await world.publish(event('evt-1', { n: 'twelve' }));
    const record = world.record('wh-a');
    assert.equal(record.status, 'invalid');
    assert.match(record.lastError ?? '', /rendered line/);
    assert.ok(!(record.lastError ?? '').includes('sk_live_SECRET123'), record.lastError ?? '');
    assert.match(record.lastError ?? '', /\[secret\]/);
    assert.ok(!JSON.stringify(world.logger.entries).includes('sk_live_SECRET123'), 'nor in the log');
  });
});
