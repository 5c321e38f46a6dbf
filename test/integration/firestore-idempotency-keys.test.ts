import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { DocumentReference, FirestoreIdempotencyKeys, GrpcStatus } from '../support/kit.ts';
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
    assert.deepEqual(await project.adapter.begin('acc', id, first, expires()), { taken: true });
    const second = await project.adapter.begin('acc', id, { ...first, requestHash: 'h2' }, expires());
    assert.equal(second.taken, false);
    assert.deepEqual(!second.taken && second.existing, first);
    await project.adapter.finish('acc', id, answer);
    const third = await project.adapter.begin('acc', id, first, expires());
    assert.deepEqual(!third.taken && third.existing.answer, answer);
    // Another account's key of the same id is another document.
    assert.deepEqual(await project.adapter.begin('acc_other', id, first, expires()), { taken: true });
    await project.adapter.release('acc', id);
    assert.deepEqual(await project.adapter.begin('acc', id, first, expires()), { taken: true });
  });

  it('a create retried after its answer was lost is recognised as its own take, not another request', async () => {
    const id = keyId();
    const original = DocumentReference.prototype.create;
    let injected = false;
    DocumentReference.prototype.create = async function (this: DocumentReference, ...args: Parameters<DocumentReference['create']>) {
      const written = await original.apply(this, args);
      if (injected) return written;
      injected = true;
      throw Object.assign(new Error('6 ALREADY_EXISTS: the retried commit met the first one'), { code: GrpcStatus.ALREADY_EXISTS });
    } as DocumentReference['create'];
    try {
      assert.deepEqual(await project.adapter.begin('acc', id, { requestHash: 'h', startedAt: new Date(), answer: null }, expires()), { taken: true });
    } finally {
      DocumentReference.prototype.create = original;
    }
    assert.ok(injected);
  });

  it('takeOver: only the record as it was seen (of two retries, one wins), never one that has its answer', async () => {
    const id = keyId();
    const dead = { requestHash: 'h', startedAt: new Date(Date.now() - 120_000), answer: null };
    await project.adapter.begin('acc', id, dead, expires());
    const retries = await Promise.all([1, 2].map((n) => project.adapter.takeOver('acc', id, dead.startedAt, { ...dead, startedAt: new Date(Date.now() + n) }, expires())));
    assert.deepEqual(retries.sort(), [false, true]);
    assert.equal(await project.adapter.takeOver('acc', id, dead.startedAt, dead, expires()), false, 'no longer the record seen');
    const answered = keyId();
    await project.adapter.begin('acc', answered, dead, expires());
    await project.adapter.finish('acc', answered, answer);
    assert.equal(await project.adapter.takeOver('acc', answered, dead.startedAt, dead, expires()), false);
    // Gone meanwhile (freed): taken by a create.
    const freed = keyId();
    assert.equal(await project.adapter.takeOver('acc', freed, dead.startedAt, dead, expires()), true);
  });
});
