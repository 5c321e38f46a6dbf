import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attemptRecord, LOG_REQUEST_BODY_BYTES, LOG_RESPONSE_BODY_BYTES } from '../../functions/src/delivery/delivery-record.ts';
import type { OutgoingRequest } from '../../functions/src/render/build-request.ts';
import { classifyOutcome } from '../../functions/src/send/classify-outcome.ts';
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
    assert.equal(entry.request!.body, Buffer.from(request.body!).subarray(0, LOG_REQUEST_BODY_BYTES).toString().replace(SECRET, '[secret]'));
    assert.equal(entry.request!.bodyTruncated, true);
    assert.equal(entry.request!.bodyBytes, Buffer.byteLength(request.body!));
    assert.equal(entry.response?.body?.length, LOG_RESPONSE_BODY_BYTES);
    assert.equal(entry.response?.bodyTruncated, true);
  });

  it('record transport errors', () => {
    const entry = record({ kind: 'error', code: 'ECONNRESET', message: 'socket hang up', durationMs: 3 });
    assert.deepEqual(entry.error, { code: 'ECONNRESET', message: 'socket hang up' });
    assert.equal(entry.response, null);
    assert.equal(entry.outcome, 'retryable');
  });
});
