import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ROOT } from '../../scripts/build.ts';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

// A webhook's `filter` on the whole pipeline: Pub/Sub → dispatcher → Firestore → receiver.
let h: Harness;
let receiver: Receiver;
let dir: string;

before(async () => {
  [h, receiver] = await Promise.all([startHarness(), startReceiver()]);
  dir = mkdtempSync(join(tmpdir(), 'hookshape-filters-'));
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await Promise.all([h.close(), receiver.close()]);
});

const ACCOUNT = 'acc_filters';
const LONG_SALES_CALLS = {
  'data.call.durationSeconds': { $gt: 60 },
  $or: [{ 'data.queue.name': { $regex: '(?i)^ventas' } }, { 'data.tags': { $in: ['vip'] } }],
};

const callData = (durationSeconds: number, queue: string, tags: string[] = []) => ({ call: { id: `call_${durationSeconds}_${queue.length}`, durationSeconds }, queue: { name: queue }, tags });

async function waitForLog(predicate: (entry: Record<string, unknown>) => boolean, timeoutMs = 20_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = (h.logs as Array<Record<string, unknown>>).find(predicate);
    if (found) return found;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error('no such log line');
}

describe('filters', () => {
  it('a filtered webhook gets only the matching events; the others leave no delivery record, only a countable log line', async () => {
    await h.setWebhook(ACCOUNT, 'long-sales', { name: 'long sales calls', events: ['call.created'], url: `${receiver.url}/long-sales/{{ event.id }}`, filter: LONG_SALES_CALLS });
    await h.setWebhook(ACCOUNT, 'everything', { name: 'all calls', events: ['call.created'], url: `${receiver.url}/everything/{{ event.id }}` });
    const matching = [eventOf('call.created', ACCOUNT, callData(805, 'Ventas hogar')), eventOf('call.created', ACCOUNT, callData(61, 'Soporte', ['vip']))];
    const filtered = [
      eventOf('call.created', ACCOUNT, callData(30, 'Ventas hogar')), // too short
      eventOf('call.created', ACCOUNT, callData(900, 'Soporte', ['normal'])), // neither queue nor tag
      eventOf('call.created', ACCOUNT, { queue: { name: 'Ventas hogar' } }), // no duration at all
    ];
    for (const event of [...filtered, ...matching]) await h.publish(event);

    for (const event of [...matching, ...filtered]) assert.equal((await h.waitForDelivery(ACCOUNT, 'everything', event.id)).status, 'succeeded');
    for (const event of matching) assert.equal((await h.waitForDelivery(ACCOUNT, 'long-sales', event.id)).status, 'succeeded');
    for (const event of filtered) {
      const line = await waitForLog((entry) => entry.filtered === true && entry.eventId === event.id);
      assert.equal(line.webhookId, 'long-sales');
      assert.equal(await h.delivery(ACCOUNT, 'long-sales', event.id), undefined, `no delivery record for the filtered event ${event.id}`);
    }
    const received = receiver.requests.filter((request) => request.url.startsWith('/long-sales/')).map((request) => request.url.split('/')[2]).sort();
    assert.deepEqual(received, matching.map((event) => event.id).sort());
    assert.equal(receiver.requests.filter((request) => request.url.startsWith('/everything/')).length, 5);
  });

  it('hookshape preview says whether an event passes, and which condition failed on which value', () => {
    const file = join(dir, 'long-sales.json');
    writeFileSync(file, JSON.stringify({ name: 'long sales calls', events: ['call.created'], url: 'https://crm.example.com/calls', filter: LONG_SALES_CALLS }));
    const data = join(dir, 'short.json');
    writeFileSync(data, JSON.stringify(callData(30, 'Ventas hogar')));
    const run = (...args: string[]) => spawnSync(process.execPath, [join(ROOT, 'functions/cli/hookshape.ts'), 'preview', file, ...args], { cwd: ROOT, encoding: 'utf8', env: { PATH: process.env.PATH, HOME: process.env.HOME } });

    const sample = run(); // the catalogue sample: 805 s in "Ventas hogar"
    assert.equal(sample.status, 0, sample.stderr);
    assert.match(sample.stderr, /✓ filter: this event passes/);
    const short = run('--data', data);
    assert.equal(short.status, 0, short.stderr);
    assert.match(short.stderr, /✗ filter: this event is filtered out: data\.call\.durationSeconds is 30, not > 60; it would not be delivered/);
    assert.match(short.stdout, /^POST https:\/\/crm\.example\.com\/calls/, 'the request is still shown');
    const json = JSON.parse(run('--data', data, '--json').stdout) as { filter: { pass: boolean; at: string } };
    assert.deepEqual({ pass: json.filter.pass, at: json.filter.at }, { pass: false, at: 'data.call.durationSeconds' });
  });
});
