/**
 * Found in review: the retry task's schema allowed only 1-200 of [A-Za-z0-9_.:-] for the webhook id and
 * numbers up to 1000, while the API, the dispatcher and Firestore's console accept any document id; a
 * task of such a webhook was acknowledged as malformed and its delivery left retrying for good.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRetryWorkerHandler } from '../../functions/src/entry/retry-worker-handler.ts';
import { parseRetryTask } from '../../functions/src/retry/handle-retry-task.ts';
import { ACCOUNT, response, webhookDocument, World } from './delivery-fakes.ts';

const task = (fields: Record<string, unknown>) => ({ accountId: ACCOUNT, webhookId: 'wh-a', eventId: 'evt-1', attempt: 2, ...fields });

const CASES: Array<{ name: string; body: Record<string, unknown>; ok: boolean }> = [
  { name: 'a console id starting with _ and holding ~', body: task({ webhookId: '_crm~calls' }), ok: true },
  { name: 'a console id with spaces and accents', body: task({ webhookId: 'CRM llamadas ñ' }), ok: true },
  { name: 'a webhook id of 1500 characters', body: task({ webhookId: 'w'.repeat(1500) }), ok: true },
  { name: 'attempt, series and repair past 1000', body: task({ attempt: 1001, series: 1200, repair: 5000 }), ok: true },
  { name: 'a webhook id with /', body: task({ webhookId: 'a/b' }), ok: false },
  { name: 'a webhook id of 1501 characters', body: task({ webhookId: 'w'.repeat(1501) }), ok: false },
  { name: 'the reserved id ..', body: task({ webhookId: '..' }), ok: false },
  { name: 'a reserved __id__', body: task({ webhookId: '__name__' }), ok: false },
  { name: 'an empty webhook id', body: task({ webhookId: '' }), ok: false },
  { name: 'attempt 0', body: task({ attempt: 0 }), ok: false },
  { name: 'a fractional series', body: task({ series: 1.5 }), ok: false },
];

describe('retry task ids follow Firestore document ids, as the rest of the code does', () => {
  for (const { name, body, ok } of CASES) {
    it(`${name}: ${ok ? 'accepted' : 'refused'}`, () => {
      const parsed = parseRetryTask(body);
      assert.equal(parsed.ok, ok, parsed.ok ? 'accepted' : parsed.reason);
    });
  }

  it("a console-named webhook's retry runs through the worker's HTTP entry and is delivered", async () => {
    const world = new World({ webhooks: [] });
    world.webhooks.set(ACCOUNT, '_crm~calls', webhookDocument('_crm~calls'));
    world.sender.respond = (_request, previous) => (previous === 0 ? response(500) : response(200));
    await world.publish();
    const scheduled = world.scheduler.pending()[0]!;
    world.clock.set(scheduled.at);
    const handler = createRetryWorkerHandler(() => world.deps());
    let status = 0;
    let body: unknown;
    const headers: Record<string, string> = { 'X-CloudTasks-QueueName': 'hookshape-retries', 'X-CloudTasks-TaskName': scheduled.id };
    const res = {
      status(code: number) {
        status = code;
        return res;
      },
      json(value: unknown) {
        body = value;
        return res;
      },
    };
    await handler({ method: 'POST', body: JSON.parse(JSON.stringify(scheduled.task)), get: (name: string) => headers[name] } as never, res as never);
    assert.equal(status, 200);
    assert.deepEqual(body, { result: 'succeeded' });
    assert.equal(world.record('_crm~calls').status, 'succeeded');
    assert.equal(world.received('_crm~calls'), 2);
  });
});
