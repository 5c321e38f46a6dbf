import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recoverStale } from '../../functions/src/delivery/recover.ts';
import { pendingDelivery } from '../../functions/src/delivery/lease.ts';
import { DEFAULT_RETRY_SETTINGS, MAX_RETRY_WINDOW_SECONDS, nextStep, retryDelaySeconds, retryPolicy, retryWindowSeconds, scheduledDelaySeconds, type RetryPolicy } from '../../functions/src/delivery/retry-policy.ts';
import type { StoredDelivery } from '../../functions/src/delivery/ports.ts';
import { TemplateEngine } from '../../functions/src/render/template-engine.ts';
import { classifyOutcome, type StatusRange } from '../../functions/src/send/classify-outcome.ts';
import type { SendResult } from '../../functions/src/send/http-sender.ts';
import { validateWebhookDocument } from '../../functions/src/validation/validate-webhook.ts';
import { parseWebhookConfig, type WebhookRetry } from '../../functions/src/webhooks/webhook-config.ts';
import { event, response, webhookDocument, World } from './delivery-fakes.ts';

const SETTINGS = { baseDelaySeconds: 60, retryAfterCapSeconds: 3600 };
const policyOf = (retry: Record<string, unknown>): RetryPolicy => {
  const parsed = parseWebhookConfig('acc-1', 'wh', { name: 'x', events: ['call.created'], url: 'https://x.example/', retry });
  if (!parsed.ok) throw new Error(parsed.reason);
  return retryPolicy(SETTINGS, parsed.webhook);
};
/** Waits before retry 1..n, and what follows retry n+1 (the series is over). */
function schedule(policy: RetryPolicy): { waits: number[]; then: string } {
  const retryable = { result: 'retryable' as const, summary: 'HTTP 500' };
  const waits: number[] = [];
  for (let n = 1; ; n += 1) {
    const step = nextStep(retryable, 'primary', n, false, policy);
    if (step.action !== 'retry') return { waits, then: step.action === 'done' ? step.status : step.action };
    waits.push(step.delaySeconds);
  }
}

describe('retry schedules (table)', () => {
  const cases: Array<{ name: string; retry: Record<string, unknown> | undefined; waits: number[] }> = [
    { name: 'no retry field: the seed, 60, 120, 180 s', retry: undefined, waits: [60, 120, 180] },
    { name: 'incremental is the default schedule', retry: { attempts: 5 }, waits: [60, 120, 180, 240, 300] },
    { name: 'incremental with its own base', retry: { schedule: 'incremental', baseDelaySeconds: 10 }, waits: [10, 20, 30] },
    { name: 'attempts 0: no retry', retry: { attempts: 0 }, waits: [] },
    { name: 'exponential: base × 2^(n-1)', retry: { attempts: 6, schedule: 'exponential' }, waits: [60, 120, 240, 480, 960, 1920] },
    { name: 'exponential with base and cap', retry: { attempts: 6, schedule: 'exponential', baseDelaySeconds: 30, maxDelaySeconds: 300 }, waits: [30, 60, 120, 240, 300, 300] },
    { name: 'exponential at 10 attempts stops at the default 6 h cap', retry: { attempts: 10, schedule: 'exponential' }, waits: [60, 120, 240, 480, 960, 1920, 3840, 7680, 15360, 21600] },
    { name: 'explicit delays: attempts from their count', retry: { schedule: 'explicit', delaysSeconds: [5, 300, 3600] }, waits: [5, 300, 3600] },
    { name: 'explicit delays without naming the schedule', retry: { delaysSeconds: [1, 2] }, waits: [1, 2] },
    { name: 'explicit with more attempts repeats the last wait', retry: { attempts: 5, delaysSeconds: [10, 60] }, waits: [10, 60, 60, 60, 60] },
    { name: 'explicit with fewer attempts uses the first waits', retry: { attempts: 1, delaysSeconds: [10, 60] }, waits: [10] },
    { name: 'maxDelaySeconds caps any schedule', retry: { attempts: 4, baseDelaySeconds: 100, maxDelaySeconds: 250 }, waits: [100, 200, 250, 250] },
    { name: 'fractions of a second (short test schedules)', retry: { attempts: 4, schedule: 'exponential', baseDelaySeconds: 0.25, maxDelaySeconds: 1 }, waits: [0.25, 0.5, 1, 1] },
  ];
  for (const { name, retry, waits } of cases) {
    it(name, () => {
      const policy = retry === undefined ? retryPolicy(SETTINGS, undefined) : policyOf(retry);
      assert.deepEqual(schedule(policy), { waits, then: 'failed' });
    });
  }

  it("a deployment's base delay is the default base of every schedule", () => {
    const policy = retryPolicy({ baseDelaySeconds: 1, retryAfterCapSeconds: 3600 }, { retry: { attempts: 4, schedule: 'exponential' } });
    assert.deepEqual(schedule(policy).waits, [1, 2, 4, 8]);
  });

  it('the policy passes the backup on when the primary series is over, and gives the backup the same series', () => {
    const policy = policyOf({ attempts: 2, schedule: 'exponential', baseDelaySeconds: 5 });
    const retryable = { result: 'retryable' as const, summary: 'HTTP 500' };
    assert.deepEqual(nextStep(retryable, 'primary', 3, true, policy), { action: 'backup' });
    assert.deepEqual([1, 2, 3].map((n) => nextStep(retryable, 'backup', n, true, policy)), [
      { action: 'retry', target: 'backup', delaySeconds: 5 },
      { action: 'retry', target: 'backup', delaySeconds: 10 },
      { action: 'done', status: 'failed' },
    ]);
    assert.deepEqual(nextStep(retryable, 'primary', 1, true, policyOf({ attempts: 0 })), { action: 'backup' });
  });

  it('Retry-After is honoured up to the webhook\'s cap', () => {
    const policy = policyOf({ attempts: 3, delaysSeconds: [10], retryAfterCapSeconds: 120 });
    assert.equal(retryDelaySeconds(1, 5, policy), 10, 'never shorter than the schedule');
    assert.equal(retryDelaySeconds(1, 90, policy), 90);
    assert.equal(retryDelaySeconds(1, 86_400, policy), 120);
    assert.equal(retryDelaySeconds(1, 86_400, policyOf({ retryAfterCapSeconds: 0 })), 60, 'a cap of 0 ignores Retry-After');
  });

  it('no single wait is longer than Cloud Tasks schedules ahead (30 days), whatever the deployment cap', () => {
    assert.equal(retryDelaySeconds(1, 10 ** 9, { baseDelaySeconds: 60, retryAfterCapSeconds: 10 ** 9 }), MAX_RETRY_WINDOW_SECONDS);
    assert.equal(scheduledDelaySeconds(3, { baseDelaySeconds: 30 * 86_400, retryAfterCapSeconds: 0 }), MAX_RETRY_WINDOW_SECONDS);
  });
});

describe('which answers retry (retryOn)', () => {
  const now = new Date('2026-11-23T10:00:00Z');
  const ranges = (retryOn: unknown[]): StatusRange[] => policyOf({ retryOn }).retryOn!;
  const cases: Array<{ name: string; retryOn: unknown[] | undefined; retried: number[]; notRetried: number[] }> = [
    { name: 'the default: 429 and 5xx', retryOn: undefined, retried: [429, 500, 502, 503, 599], notRetried: [400, 401, 404, 408, 409, 422] },
    { name: 'adding 408 and 409', retryOn: [408, 409, 429, '5xx'], retried: [408, 409, 429, 500, 503], notRetried: [400, 404] },
    { name: 'dropping 500 with a range', retryOn: [429, '501-599'], retried: [429, 501, 503, 599], notRetried: [500, 404] },
    { name: 'only 503 (as text)', retryOn: ['503'], retried: [503], notRetried: [429, 500, 502] },
    { name: 'a whole class, any case', retryOn: ['4XX'], retried: [400, 404, 429, 499], notRetried: [500] },
    { name: 'nothing: only transport errors retry', retryOn: [], retried: [], notRetried: [429, 500, 503] },
  ];
  const statusOf = (status: number): SendResult => response(status);
  for (const { name, retryOn, retried, notRetried } of cases) {
    it(name, () => {
      const list = retryOn === undefined ? undefined : ranges(retryOn);
      for (const status of retried) assert.equal(classifyOutcome(statusOf(status), now, list).result, 'retryable', `${status}`);
      for (const status of notRetried) assert.equal(classifyOutcome(statusOf(status), now, list).result, 'failed', `${status}`);
      // Whatever the list: 2xx delivered, 3xx failed, transport errors retried.
      assert.equal(classifyOutcome(statusOf(204), now, list).result, 'succeeded');
      assert.equal(classifyOutcome(statusOf(301), now, list).result, 'failed');
      assert.equal(classifyOutcome({ kind: 'error', code: 'ETIMEDOUT', message: 'timeout', durationMs: 1 }, now, list).result, 'retryable');
    });
  }

  it('Retry-After is read on a retried 429 or 503, not on a 429 the webhook does not retry', () => {
    assert.deepEqual(classifyOutcome(response(429, { 'retry-after': '30' }), now, ranges([429])), { result: 'retryable', summary: 'HTTP 429', retryAfterSeconds: 30 });
    assert.deepEqual(classifyOutcome(response(503, { 'retry-after': '30' }), now, ranges(['5xx'])), { result: 'retryable', summary: 'HTTP 503', retryAfterSeconds: 30 });
    assert.deepEqual(classifyOutcome(response(429, { 'retry-after': '30' }), now, ranges([503])), { result: 'failed', summary: 'HTTP 429' });
  });
});

describe('the retry field at save time', () => {
  const base = { name: 'CRM', events: ['call.created'], url: 'https://crm.example.com/calls' };
  const engine = new TemplateEngine();
  const cases: Array<{ name: string; retry: unknown; field: string; message: RegExp }> = [
    { name: 'attempts over 10', retry: { attempts: 11 }, field: 'retry.attempts', message: /must be at most 10/ },
    { name: 'attempts negative', retry: { attempts: -1 }, field: 'retry.attempts', message: /must be 0 or more/ },
    { name: 'attempts not whole', retry: { attempts: 2.5 }, field: 'retry.attempts', message: /whole number/ },
    { name: 'an unknown schedule', retry: { schedule: 'fibonacci' }, field: 'retry.schedule', message: /must be one of incremental, exponential, explicit/ },
    { name: 'explicit without delays', retry: { schedule: 'explicit' }, field: 'retry.delaysSeconds', message: /is required for schedule explicit/ },
    { name: 'delays with another schedule', retry: { schedule: 'exponential', delaysSeconds: [1] }, field: 'retry.delaysSeconds', message: /only read by schedule explicit/ },
    { name: 'a negative delay', retry: { delaysSeconds: [10, -1] }, field: 'retry.delaysSeconds[1]', message: /must not be negative/ },
    { name: 'a wait over 30 days', retry: { schedule: 'exponential', maxDelaySeconds: 40 * 86_400 }, field: 'retry.maxDelaySeconds', message: /at most 2592000 \(30 days/ },
    { name: 'a base of 0', retry: { baseDelaySeconds: 0 }, field: 'retry.baseDelaySeconds', message: /more than 0/ },
    { name: 'a 2xx to retry', retry: { retryOn: [200] }, field: 'retry.retryOn[0]', message: /200 is not a status to retry/ },
    { name: 'a backwards range', retry: { retryOn: ['504-500'] }, field: 'retry.retryOn[0]', message: /not a status to retry/ },
    { name: 'a misspelt setting', retry: { attempt: 3 }, field: 'retry', message: /attempt: not a retry setting/ },
    { name: 'not a map', retry: 6, field: 'retry', message: /must be a map/ },
  ];
  for (const { name, retry, field, message } of cases) {
    it(`refuses ${name}`, async () => {
      const report = await validateWebhookDocument({ ...base, retry }, { accountId: 'acc_1', webhookId: 'crm', engine });
      assert.equal(report.ok, false);
      assert.ok(report.errors.some((error) => error.field === field && message.test(error.message)), JSON.stringify(report.errors));
    });
  }

  const windows: Array<{ name: string; document: Record<string, unknown>; ok: boolean }> = [
    { name: '10 retries a day apart fit in 30 days', document: { ...base, retry: { attempts: 10, delaysSeconds: [86_400] } }, ok: true },
    { name: '10 retries 4 days apart do not', document: { ...base, retry: { attempts: 10, delaysSeconds: [4 * 86_400] } }, ok: false },
    { name: 'with a backup, both series count', document: { ...base, backupUrl: 'https://backup.example.com/x', retry: { attempts: 10, delaysSeconds: [2 * 86_400] } }, ok: false },
    { name: 'each wait counts at least the Retry-After cap', document: { ...base, retry: { attempts: 10, delaysSeconds: [1], retryAfterCapSeconds: 4 * 86_400 } }, ok: false },
  ];
  for (const { name, document, ok } of windows) {
    it(`the 30-day window: ${name}`, async () => {
      const report = await validateWebhookDocument(document, { accountId: 'acc_1', webhookId: 'crm', engine });
      assert.equal(report.ok, ok, JSON.stringify(report.errors));
      if (!ok) assert.match(report.errors.find((error) => error.field === 'retry')?.message ?? '', /^retry: its retries can take up to [\d.]+ days.*the limit is 30 days/);
    });
  }

  it('the window of the seed policy', () => {
    assert.equal(retryWindowSeconds(DEFAULT_RETRY_SETTINGS, false), 3 * 3600);
    assert.equal(retryWindowSeconds(DEFAULT_RETRY_SETTINGS, true), 6 * 3600);
  });

  it('only the fields written are kept: the rest stays the deployment\'s', () => {
    const parsed = parseWebhookConfig('acc-1', 'wh', { ...base, retry: { attempts: 6, schedule: 'exponential' } });
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.webhook.retry, { attempts: 6, schedule: 'exponential' } satisfies WebhookRetry);
  });
});

describe('the state machine follows the webhook\'s policy', () => {
  const failing = (world: World) => (world.sender.respond = () => response(503));

  it('attempts 6, exponential: 7 requests at 60, 120, 240, 480, 960, 1920 s, then failed (retries_exhausted)', async () => {
    const world = new World({ webhooks: [] });
    world.webhooks.set('acc-1', 'exp', webhookDocument('exp', { retry: { attempts: 6, schedule: 'exponential' } }));
    failing(world);
    await world.publish();
    await world.drainTasks();
    const record = world.record('exp');
    assert.equal(record.status, 'failed');
    assert.equal(record.errorCode, 'retries_exhausted');
    assert.equal(world.received('exp', 'evt-1'), 7);
    const times = world.scheduler.of('exp').map((task) => task.at.getTime());
    const first = record.attempts[0]!.startedAt.getTime();
    const waits = times.map((at, index) => Math.round((at - (index === 0 ? first : times[index - 1]!)) / 1000));
    assert.deepEqual(waits, [60, 120, 240, 480, 960, 1920]);
  });

  it('attempts 0 with a backup: the backup at once, no retry of either', async () => {
    const world = new World({ webhooks: [] });
    world.webhooks.set('acc-1', 'zero', webhookDocument('zero', { backupUrl: 'https://backup.example/hooks/zero/{{ event.id }}', retry: { attempts: 0 } }));
    failing(world);
    await world.publish();
    await world.drainTasks();
    const record = world.record('zero');
    assert.deepEqual(record.attempts.map((attempt) => attempt.target), ['primary', 'backup']);
    assert.equal(record.status, 'failed');
    assert.equal(world.scheduler.tasks.length, 0);
  });

  it('retryOn without 503: a 503 fails at once (http_error), a 408 it lists is retried', async () => {
    const world = new World({ webhooks: [] });
    world.webhooks.set('acc-1', 'codes', webhookDocument('codes', { retry: { retryOn: [408, 429], attempts: 1 } }));
    failing(world);
    await world.publish();
    assert.equal(world.record('codes').status, 'failed');
    assert.equal(world.record('codes').errorCode, 'http_error');
    world.sender.respond = () => response(408);
    await world.publish(event('evt-2'));
    assert.equal(world.record('codes', 'evt-2').status, 'retrying');
    await world.drainTasks();
    assert.equal(world.record('codes', 'evt-2').status, 'failed');
    assert.equal(world.record('codes', 'evt-2').errorCode, 'retries_exhausted');
    assert.equal(world.received('codes', 'evt-2'), 2);
  });

  it('a takeover continues by the webhook\'s policy (recoverStale)', () => {
    const now = new Date('2026-11-23T12:00:00Z');
    const since = new Date(now.getTime() - 100_000);
    const record: StoredDelivery = { ...pendingDelivery(event(), 'exp', 'Hook exp', since, 30), status: 'retrying', inFlight: { number: 3, target: 'primary', attemptOfTarget: 3, since } };
    const exponential = recoverStale(record, now, false, policyOf({ attempts: 6, schedule: 'exponential' }));
    assert.equal(exponential.status, 'retrying');
    assert.equal((exponential.nextAttemptAt!.getTime() - since.getTime()) / 1000, 240, 'retry 3 of exponential waits 240 s, counted from the lost attempt');
    assert.equal(recoverStale(record, now, false, policyOf({ attempts: 2 })).status, 'failed', 'no retry left under attempts 2');
  });
});
