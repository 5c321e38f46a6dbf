import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyOutcome, parseRetryAfter } from '../../functions/src/send/classify-outcome.ts';
import { DESTINATION_REFUSED, type SendResult } from '../../functions/src/send/http-sender.ts';
import { nextStep, retryDelaySeconds } from '../../functions/src/delivery/retry-policy.ts';

const now = new Date('2026-11-23T10:00:00Z');
const response = (status: number, headers: Record<string, string> = {}, body = ''): SendResult => ({ kind: 'response', status, headers, body: Buffer.from(body), truncated: false, durationMs: 5 });
const error = (code: string): SendResult => ({ kind: 'error', code, message: `${code} happened`, durationMs: 5 });

describe('classifyOutcome (seed 001)', () => {
  const cases: Array<{ name: string; sent: SendResult; result: string; retryAfter?: number }> = [
    { name: '200', sent: response(200), result: 'succeeded' },
    { name: '204', sent: response(204), result: 'succeeded' },
    { name: '299', sent: response(299), result: 'succeeded' },
    { name: '301 is not followed', sent: response(301, { location: 'http://169.254.169.254/' }), result: 'failed' },
    { name: '400', sent: response(400), result: 'failed' },
    { name: '404', sent: response(404), result: 'failed' },
    { name: '408 is a 4xx other than 429', sent: response(408), result: 'failed' },
    { name: '429', sent: response(429), result: 'retryable' },
    { name: '429 with Retry-After', sent: response(429, { 'retry-after': '120' }), result: 'retryable', retryAfter: 120 },
    { name: '500', sent: response(500), result: 'retryable' },
    { name: '503 with an HTTP-date Retry-After', sent: response(503, { 'retry-after': 'Mon, 23 Nov 2026 10:05:00 GMT' }), result: 'retryable', retryAfter: 300 },
    { name: '502 ignores Retry-After', sent: response(502, { 'retry-after': '999' }), result: 'retryable' },
    { name: 'a 200 whose body claims an error is still delivered', sent: response(200, {}, '{"status": 500, "error": "boom"}'), result: 'succeeded' },
    { name: 'a 500 whose body claims success is still retried', sent: response(500, {}, '{"status": 200, "ok": true}'), result: 'retryable' },
    { name: 'timeout', sent: error('ETIMEDOUT'), result: 'retryable' },
    { name: 'connection refused', sent: error('ECONNREFUSED'), result: 'retryable' },
    { name: 'connection reset', sent: error('ECONNRESET'), result: 'retryable' },
    { name: 'DNS failure', sent: error('ENOTFOUND'), result: 'retryable' },
    { name: 'refused destination', sent: error(DESTINATION_REFUSED), result: 'failed' },
  ];
  for (const { name, sent, result, retryAfter } of cases) {
    it(name, () => {
      const outcome = classifyOutcome(sent, now);
      assert.equal(outcome.result, result);
      assert.equal(outcome.result === 'retryable' ? outcome.retryAfterSeconds : undefined, retryAfter);
    });
  }

  it('a 3xx names the Location it did not follow', () => {
    assert.match(classifyOutcome(response(302, { location: 'https://elsewhere.example/' }), now).summary, /not followed.*elsewhere\.example/);
  });

  it('parses Retry-After forms', () => {
    assert.equal(parseRetryAfter('0', now), 0);
    assert.equal(parseRetryAfter(' 30 ', now), 30);
    assert.equal(parseRetryAfter('Mon, 23 Nov 2026 09:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});

describe('retry policy: n × base, 3 retries per target, then the backup', () => {
  const settings = { baseDelaySeconds: 60, retryAfterCapSeconds: 3600 };
  const retryable = { result: 'retryable' as const, summary: 'HTTP 500' };

  it('waits 60, 120, 180 s and then gives up', () => {
    assert.deepEqual([1, 2, 3].map((n) => nextStep(retryable, 'primary', n, false, settings)), [
      { action: 'retry', target: 'primary', delaySeconds: 60 },
      { action: 'retry', target: 'primary', delaySeconds: 120 },
      { action: 'retry', target: 'primary', delaySeconds: 180 },
    ]);
    assert.deepEqual(nextStep(retryable, 'primary', 4, false, settings), { action: 'done', status: 'failed' });
  });

  const cases = [
    { name: 'success ends the delivery', outcome: { result: 'succeeded' as const, summary: '' }, target: 'primary' as const, n: 1, backup: true, expected: { action: 'done', status: 'succeeded' } },
    { name: 'a 4xx goes straight to the backup', outcome: { result: 'failed' as const, summary: '' }, target: 'primary' as const, n: 1, backup: true, expected: { action: 'backup' } },
    { name: 'a 4xx without backup fails', outcome: { result: 'failed' as const, summary: '' }, target: 'primary' as const, n: 1, backup: false, expected: { action: 'done', status: 'failed' } },
    { name: 'retries used up go to the backup', outcome: retryable, target: 'primary' as const, n: 4, backup: true, expected: { action: 'backup' } },
    { name: 'the backup retries on the same schedule', outcome: retryable, target: 'backup' as const, n: 2, backup: true, expected: { action: 'retry', target: 'backup', delaySeconds: 120 } },
    { name: 'the backup used up fails', outcome: retryable, target: 'backup' as const, n: 4, backup: true, expected: { action: 'done', status: 'failed' } },
  ];
  for (const { name, outcome, target, n, backup, expected } of cases) {
    it(name, () => assert.deepEqual(nextStep(outcome, target, n, backup, settings), expected));
  }

  it('honours a longer Retry-After up to the cap, never a shorter one', () => {
    assert.equal(retryDelaySeconds(1, 30, settings), 60);
    assert.equal(retryDelaySeconds(1, 600, settings), 600);
    assert.equal(retryDelaySeconds(1, 86_400, settings), 3600);
    assert.equal(retryDelaySeconds(2, undefined, { baseDelaySeconds: 1, retryAfterCapSeconds: 3600 }), 2);
  });
});
