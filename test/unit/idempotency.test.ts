/**
 * The Idempotency-Key rules of the management API's creating POSTs, over an in-memory key store (the
 * Firestore adapter runs them on the emulator in test/integration/api.test.ts).
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { checkedKey, IDEMPOTENCY_KEEP_MS, IDEMPOTENCY_STALE_MS, idempotent, type IdempotentRequest } from '../../functions/src/api/idempotency.ts';
import type { IdempotencyRecord, IdempotencyStore, KeptAnswer } from '../../functions/src/api/ports.ts';
import { ApiProblem } from '../../functions/src/api/problem.ts';
import type { ApiResult } from '../../functions/src/api/webhook-handlers.ts';
import { createMemoryLogger } from '../../functions/src/log/logger.ts';

class MemoryKeys implements IdempotencyStore {
  readonly records = new Map<string, IdempotencyRecord & { expiresAt: Date; owner: string }>();
  failFinish = false;
  private owners = 0;

  async begin(accountId: string, keyId: string, record: IdempotencyRecord, expiresAt: Date) {
    const existing = this.records.get(`${accountId}/${keyId}`);
    if (existing) {
      const { requestHash, startedAt, answer } = structuredClone(existing);
      return { taken: false as const, existing: { requestHash, startedAt, answer } };
    }
    const owner = `owner-${++this.owners}`;
    this.records.set(`${accountId}/${keyId}`, { ...structuredClone(record), expiresAt, owner });
    return { taken: true as const, owner };
  }

  async takeOver(accountId: string, keyId: string, seenStartedAt: Date, record: IdempotencyRecord, expiresAt: Date) {
    const existing = this.records.get(`${accountId}/${keyId}`);
    if (!existing) {
      const begun = await this.begin(accountId, keyId, record, expiresAt);
      return begun.taken ? begun.owner : undefined;
    }
    if (existing.startedAt.getTime() !== seenStartedAt.getTime()) return undefined;
    const owner = `owner-${++this.owners}`;
    this.records.set(`${accountId}/${keyId}`, { ...structuredClone(record), expiresAt, owner });
    return owner;
  }

  async finish(accountId: string, keyId: string, owner: string, answer: KeptAnswer) {
    if (this.failFinish) throw Object.assign(new Error('14 UNAVAILABLE'), { code: 14 });
    const existing = this.records.get(`${accountId}/${keyId}`);
    if (existing?.owner === owner) existing.answer = answer;
  }

  async release(accountId: string, keyId: string, owner: string) {
    if (this.records.get(`${accountId}/${keyId}`)?.owner === owner) this.records.delete(`${accountId}/${keyId}`);
  }
}

function world() {
  let now = new Date('2026-12-07T10:00:00Z');
  const store = new MemoryKeys();
  const logger = createMemoryLogger();
  let runs = 0;
  const deps = { idempotency: store, clock: { now: () => now } };
  const request = (fields: Partial<IdempotentRequest> = {}): IdempotentRequest => ({ accountId: 'acc_1', key: 'key-1', method: 'POST', path: '/v1/accounts/acc_1/webhooks', body: new TextEncoder().encode('{"name":"a"}'), ...fields });
  const created = async (): Promise<ApiResult> => {
    runs += 1;
    return { status: 201, body: { id: `wh_${runs}` }, headers: { Location: `/v1/accounts/acc_1/webhooks/wh_${runs}`, ETag: `"${runs}"`, 'X-Other': 'not kept' } };
  };
  return { store, logger, deps, request, created, runs: () => runs, advance: (ms: number) => void (now = new Date(now.getTime() + ms)), now: () => now };
}

const problemOf = async (promise: Promise<unknown>) => {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof ApiProblem, `an ApiProblem, got ${String(error)}`);
  return error;
};

describe('Idempotency-Key', () => {
  it('the same request again gets the first answer (its Location and ETag), marked replayed, and runs once', async () => {
    const w = world();
    const first = await idempotent(w.deps, w.logger, w.request(), w.created);
    const again = await idempotent(w.deps, w.logger, w.request(), w.created);
    assert.equal(w.runs(), 1);
    assert.deepEqual(again, { status: 201, body: { id: 'wh_1' }, headers: { Location: first.headers!.Location, ETag: first.headers!.ETag, 'Idempotent-Replayed': 'true' } });
    // Kept a day.
    assert.equal([...w.store.records.values()][0]!.expiresAt.getTime(), w.now().getTime() + IDEMPOTENCY_KEEP_MS);
  });

  it('the same key with another body, path or method is refused (422 idempotency_key_reused), and nothing runs', async () => {
    const w = world();
    await idempotent(w.deps, w.logger, w.request(), w.created);
    for (const other of [{ body: new TextEncoder().encode('{"name":"b"}') }, { path: '/v1/accounts/acc_1/recover-jobs' }, { method: 'PUT' }]) {
      const problem = await problemOf(idempotent(w.deps, w.logger, w.request(other), w.created));
      assert.equal(problem.code, 'idempotency_key_reused');
      assert.equal(problem.status, 422);
      assert.deepEqual(problem.errors?.map((error) => error.field), ['Idempotency-Key']);
    }
    assert.equal(w.runs(), 1);
  });

  it('keys are per account: the same key in another account is another request', async () => {
    const w = world();
    await idempotent(w.deps, w.logger, w.request(), w.created);
    const other = await idempotent(w.deps, w.logger, w.request({ accountId: 'acc_2' }), w.created);
    assert.equal(w.runs(), 2);
    assert.equal(other.headers?.['Idempotent-Replayed'], undefined);
  });

  it('a request that fails (an error, or an answer that is not 2xx) frees its key: the corrected request may use it', async () => {
    const w = world();
    await problemOf(idempotent(w.deps, w.logger, w.request(), async () => {
      throw new ApiProblem('validation_failed', 'url: must be https');
    }));
    assert.equal(w.store.records.size, 0);
    const refused = await idempotent(w.deps, w.logger, w.request(), async () => ({ status: 409, body: { code: 'conflict' } }));
    assert.equal(refused.status, 409);
    assert.equal(w.store.records.size, 0);
    const fixed = await idempotent(w.deps, w.logger, w.request({ body: new TextEncoder().encode('{"name":"fixed"}') }), w.created);
    assert.equal(fixed.status, 201);
  });

  it('while the first request runs, the same one is a 409 to retry (Retry-After); once it answers, the retry gets its answer', async () => {
    const w = world();
    let finishFirst!: () => void;
    const first = idempotent(w.deps, w.logger, w.request(), async () => {
      await new Promise<void>((resolve) => (finishFirst = resolve));
      return w.created();
    });
    await new Promise((resolve) => setImmediate(resolve));
    const problem = await problemOf(idempotent(w.deps, w.logger, w.request(), w.created));
    assert.equal(problem.code, 'idempotency_key_in_use');
    assert.equal(problem.status, 409);
    assert.equal(problem.headers['Retry-After'], '1');
    finishFirst();
    await first;
    assert.equal((await idempotent(w.deps, w.logger, w.request(), w.created)).headers?.['Idempotent-Replayed'], 'true');
    assert.equal(w.runs(), 1);
  });

  it('a key whose request never answered (its instance died) is taken over once stale, and the request runs', async () => {
    const w = world();
    await w.store.begin('acc_1', createHash('sha256').update('key-1').digest('hex'), { requestHash: '', startedAt: w.now(), answer: null }, w.now());
    // A record of another request under the key: refused, stale or not.
    assert.equal((await problemOf(idempotent(w.deps, w.logger, w.request(), w.created))).code, 'idempotency_key_reused');
    w.advance(IDEMPOTENCY_STALE_MS);
    assert.equal((await problemOf(idempotent(w.deps, w.logger, w.request(), w.created))).code, 'idempotency_key_reused');
    w.store.records.clear();
    const dead = idempotent(w.deps, w.logger, w.request(), () => new Promise<ApiResult>(() => {})); // never answers
    void dead;
    await new Promise((resolve) => setImmediate(resolve));
    w.advance(IDEMPOTENCY_STALE_MS - 1000);
    assert.equal((await problemOf(idempotent(w.deps, w.logger, w.request(), w.created))).code, 'idempotency_key_in_use');
    w.advance(1000);
    const taken = await idempotent(w.deps, w.logger, w.request(), w.created);
    assert.equal(taken.status, 201);
    assert.equal(taken.headers?.['Idempotent-Replayed'], undefined);
    assert.ok(w.logger.entries.some((entry) => entry.severity === 'WARNING' && /taken over/.test(entry.message)));
  });

  it('a request that outlives the take-over of its key cannot undo the one that took it: its late failure frees nothing, its late answer replaces nothing', async () => {
    for (const ending of ['fails', 'answers'] as const) {
      const w = world();
      let endFirst!: () => void;
      const first = idempotent(w.deps, w.logger, w.request(), async () => {
        await new Promise<void>((resolve) => (endFirst = resolve));
        if (ending === 'fails') throw new ApiProblem('unavailable', 'a dependency failed');
        return { status: 201, body: { id: 'wh_late' } };
      });
      await new Promise((resolve) => setImmediate(resolve));
      w.advance(IDEMPOTENCY_STALE_MS);
      const second = await idempotent(w.deps, w.logger, w.request(), w.created);
      assert.equal(second.status, 201);
      endFirst();
      await first.catch(() => undefined);
      const third = await idempotent(w.deps, w.logger, w.request(), w.created);
      assert.deepEqual([third.body, third.headers?.['Idempotent-Replayed']], [{ id: 'wh_1' }, 'true'], `${ending}: the taking request's answer stands`);
      assert.equal(w.runs(), 1);
    }
  });

  it('a record past its day no longer counts (its deletion may lag): the same key is a new request, even another one', async () => {
    const w = world();
    await idempotent(w.deps, w.logger, w.request(), w.created);
    w.advance(IDEMPOTENCY_KEEP_MS);
    const later = await idempotent(w.deps, w.logger, w.request({ body: new TextEncoder().encode('{"name":"next day"}') }), w.created);
    assert.deepEqual([later.status, later.body, later.headers?.['Idempotent-Replayed']], [201, { id: 'wh_2' }, undefined]);
    assert.equal((await idempotent(w.deps, w.logger, w.request({ body: new TextEncoder().encode('{"name":"next day"}') }), w.created)).headers?.['Idempotent-Replayed'], 'true');
  });

  it('an answer that could not be kept is still sent, and said in an ERROR line', async () => {
    const w = world();
    w.store.failFinish = true;
    const answer = await idempotent(w.deps, w.logger, w.request(), w.created);
    assert.equal(answer.status, 201);
    assert.ok(w.logger.entries.some((entry) => entry.severity === 'ERROR' && entry['errorCode'] === 'idempotency_not_kept'));
  });

  it('a key is 1 to 255 printable ASCII characters without spaces; anything else is a 400 naming the header', () => {
    for (const good of ['a', 'x'.repeat(255), '3f2c9a52-6c1d-4b8e-9a7e-0d5f0e1b2c3d', 'order:42/attempt#1']) assert.equal(checkedKey(good), good);
    assert.equal(checkedKey(undefined), undefined);
    for (const bad of ['', 'x'.repeat(256), 'with space', 'ünïcode', 'tab\there', 'line\nbreak']) {
      assert.throws(() => checkedKey(bad), (error: unknown) => error instanceof ApiProblem && error.status === 400 && error.errors?.[0]?.field === 'Idempotency-Key', JSON.stringify(bad));
    }
  });
});
