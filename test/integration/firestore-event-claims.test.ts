import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventOf } from '../support/harness.ts';
import { eventClaimOf, eventClaimPath, FirestoreEventClaimStore, Timestamp } from '../support/kit.ts';
import { withLostAnswer } from '../support/client-faults.ts';
import { onEmulatorProject } from '../support/emulator-project.ts';

// The event claim store against the real Firestore emulator: the create that is the idempotency check
// of a whole event, and the takeover, a write conditioned on the version read (one winner). The store
// and the client are the bundle's (test/support/kit.ts), as are the faults' DocumentReference and Timestamp.

describe('FirestoreEventClaimStore on the emulator', () => {
  const project = onEmulatorProject('eclaim', (db) => new FirestoreEventClaimStore(db));

  const newClaim = (at = new Date()) => eventClaimOf(eventOf('call.created', 'acc_eclaim'), ['w1', 'w2'], at, 7, 'a'.repeat(32));

  it('creates a claim once; a second create (another run) finds it, with Dates', async () => {
    const claim = newClaim();
    assert.deepEqual(await project.adapter.claim(claim), { created: true });
    const other = { ...newClaim(), eventId: claim.eventId };
    const again = await project.adapter.claim(other);
    assert.equal(again.created, false);
    assert.ok(!again.created);
    assert.deepEqual(again.existing, claim);
    assert.ok(again.existing.claimedAt instanceof Date);
    const stored = (await project.db.doc(eventClaimPath(claim.accountId, claim.eventId)).get()).get('expiresAt');
    assert.ok(stored instanceof Timestamp, 'expiresAt is a Timestamp: the TTL policy needs one');
    assert.deepEqual(await project.adapter.get(claim.accountId, claim.eventId), claim);
  });

  it('a create the client retried after its first try was applied recognises its own claim', async () => {
    const claim = newClaim();
    assert.ok(await withLostAnswer('create', async () => assert.deepEqual(await project.adapter.claim(claim), { created: true })));
  });

  it('concurrent takeovers of one claim: exactly one wins', async () => {
    const claim = newClaim(new Date(Date.now() - 600_000));
    await project.adapter.claim(claim);
    const at = new Date();
    const results = await Promise.all(Array.from({ length: 8 }, (_, index) => project.adapter.takeOver(claim.accountId, claim.eventId, claim.claimedAt, { claimedAt: new Date(at.getTime() + index), takeovers: claim.takeovers + 1, updatedAt: at })));
    assert.equal(results.filter(Boolean).length, 1, `winners: ${results.join(', ')}`);
    const stored = await project.adapter.get(claim.accountId, claim.eventId);
    assert.equal(stored?.takeovers, 1);
    assert.notEqual(stored?.claimedAt.getTime(), claim.claimedAt.getTime());
    // A takeover that saw the old claim loses later too; one that saw the new claim wins.
    assert.equal(await project.adapter.takeOver(claim.accountId, claim.eventId, claim.claimedAt, { claimedAt: new Date(), takeovers: 2, updatedAt: new Date() }), false);
    assert.equal(await project.adapter.takeOver(claim.accountId, claim.eventId, stored!.claimedAt, { claimedAt: new Date(), takeovers: 2, updatedAt: new Date() }), true);
  });

  it('a missing claim is never created by a takeover', async () => {
    const claim = newClaim();
    assert.equal(await project.adapter.takeOver(claim.accountId, claim.eventId, claim.claimedAt, { claimedAt: new Date(), takeovers: 1, updatedAt: new Date() }), false);
    assert.equal((await project.db.doc(eventClaimPath(claim.accountId, claim.eventId)).get()).exists, false);
  });
});
