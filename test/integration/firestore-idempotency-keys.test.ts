import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { FirestoreIdempotencyKeys } from '../support/kit.ts';
import { withLostAnswer } from '../support/client-faults.ts';
import { onEmulatorProject } from '../support/emulator-project.ts';

// The Idempotency-Key store (the bundle's adapter) on the Firestore emulator: what api/idempotency.ts
// relies on. A key is taken once, read back with its answer, freed, and taken over only as seen.
describe('FirestoreIdempotencyKeys on the emulator', () => {
  const project = onEmulatorProject('idem', (db) => new FirestoreIdempotencyKeys(db));
  const keyId = () => randomBytes(8).toString('hex');
  const expires = () => new Date(Date.now() + 86_400_000);
  const answer = { status: 201, body: '{"id":"wh_1"}', headers: { Location: '/v1/accounts/acc/webhooks/wh_1' } };

  it('a key is taken once; the next request reads the record, then its answer; freed, it is taken again', async () => {
    const id = keyId();
    const first = { requestHash: 'h1', startedAt: new Date(), answer: null };
    const taken = await project.adapter.begin('acc', id, first, expires());
    assert.ok(taken.taken);
    const second = await project.adapter.begin('acc', id, { ...first, requestHash: 'h2' }, expires());
    assert.equal(second.taken, false);
    assert.deepEqual(!second.taken && second.existing, first);
    await project.adapter.finish('acc', id, 'not the owner', answer);
    assert.deepEqual((await project.adapter.begin('acc', id, first, expires()) as { existing: { answer: unknown } }).existing.answer, null, 'only its owner gives the key its answer');
    await project.adapter.finish('acc', id, taken.owner, answer);
    const third = await project.adapter.begin('acc', id, first, expires());
    assert.deepEqual(!third.taken && third.existing.answer, answer);
    // Another account's key of the same id is another document.
    assert.equal((await project.adapter.begin('acc_other', id, first, expires())).taken, true);
    await project.adapter.release('acc', id, 'not the owner');
    assert.equal((await project.adapter.begin('acc', id, first, expires())).taken, false, 'only its owner frees the key');
    await project.adapter.release('acc', id, taken.owner);
    assert.equal((await project.adapter.begin('acc', id, first, expires())).taken, true);
  });

  it('a create retried after its answer was lost is recognised as its own take, not another request', async () => {
    const id = keyId();
    assert.ok(await withLostAnswer('create', async () => assert.equal((await project.adapter.begin('acc', id, { requestHash: 'h', startedAt: new Date(), answer: null }, expires())).taken, true)));
  });

  it('takeOver: only the record as it was seen (of two retries, one wins); the owner it replaced writes nothing after', async () => {
    const id = keyId();
    const dead = { requestHash: 'h', startedAt: new Date(Date.now() - 120_000), answer: null };
    const begun = await project.adapter.begin('acc', id, dead, expires());
    assert.ok(begun.taken);
    const retries = await Promise.all([1, 2].map((n) => project.adapter.takeOver('acc', id, dead.startedAt, { ...dead, startedAt: new Date(Date.now() + n) }, expires())));
    assert.equal(retries.filter((owner) => owner !== undefined).length, 1, 'one of two');
    assert.equal(await project.adapter.takeOver('acc', id, dead.startedAt, dead, expires()), undefined, 'no longer the record seen');
    // The request it replaced ends late: it neither frees the key nor answers under it.
    await project.adapter.release('acc', id, begun.owner);
    await project.adapter.finish('acc', id, begun.owner, answer);
    const held = await project.adapter.begin('acc', id, dead, expires());
    assert.deepEqual([held.taken, !held.taken && held.existing.answer], [false, null]);
    // Gone meanwhile (freed): taken by a create.
    assert.equal(typeof (await project.adapter.takeOver('acc', keyId(), dead.startedAt, dead, expires())), 'string');
  });
});
