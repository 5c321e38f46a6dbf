import { randomUUID } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import type { IdempotencyRecord, IdempotencyStore, KeptAnswer } from '../api/ports.ts';
import { IDEMPOTENCY_KEY_EXPIRY_FIELD, idempotencyKeyPath } from './firestore-layout.ts';
import { createOnce, fromFirestore, isFailedPrecondition } from './firestore-values.ts';

/** The id of one `begin`: how a create retried after a lost answer recognises its own first try. */
const WRITE_ID_FIELD = 'writeId';

/** The record's own fields (not the store's bookkeeping: expiry, write id). */
const recordOf = (data: unknown): IdempotencyRecord => {
  const { requestHash, startedAt, answer } = fromFirestore<IdempotencyRecord>(data);
  return { requestHash, startedAt, answer: answer ?? null };
};

/**
 * Idempotency-Keys at accounts/{a}/idempotencyKeys/{sha256 of the key}: created when a request takes
 * its key, given the answer when it succeeds, deleted when it does not; the TTL policy on `expiresAt`
 * deletes the rest after a day (until then an expired one still answers: the day is a minimum).
 */
export class FirestoreIdempotencyKeys implements IdempotencyStore {
  private readonly db: Firestore;

  constructor(db: Firestore) {
    this.db = db;
  }

  private doc(accountId: string, keyId: string) {
    return this.db.doc(idempotencyKeyPath(accountId, keyId));
  }

  async begin(accountId: string, keyId: string, record: IdempotencyRecord, expiresAt: Date): Promise<{ taken: true } | { taken: false; existing: IdempotencyRecord }> {
    const taken = await createOnce<unknown>(this.doc(accountId, keyId), { ...record, [IDEMPOTENCY_KEY_EXPIRY_FIELD]: expiresAt, [WRITE_ID_FIELD]: randomUUID() }, WRITE_ID_FIELD);
    return taken.created ? { taken: true } : { taken: false, existing: recordOf(taken.existing) };
  }

  async takeOver(accountId: string, keyId: string, seenStartedAt: Date, record: IdempotencyRecord, expiresAt: Date): Promise<boolean> {
    const ref = this.doc(accountId, keyId);
    const current = await ref.get();
    const seen = current.exists ? recordOf(current.data()) : undefined;
    // Gone meanwhile (freed, or expired): taken again by a create, which another retry may win.
    if (!seen) return (await this.begin(accountId, keyId, record, expiresAt)).taken;
    if (seen.answer !== null || seen.startedAt.getTime() !== seenStartedAt.getTime()) return false;
    try {
      // Only the version read: of two retries taking it over at once, one wins.
      await ref.update({ ...record, [IDEMPOTENCY_KEY_EXPIRY_FIELD]: expiresAt, [WRITE_ID_FIELD]: randomUUID() }, { lastUpdateTime: current.updateTime! });
      return true;
    } catch (error) {
      if (isFailedPrecondition(error)) return false;
      throw error;
    }
  }

  async finish(accountId: string, keyId: string, answer: KeptAnswer): Promise<void> {
    await this.doc(accountId, keyId).update({ answer });
  }

  async release(accountId: string, keyId: string): Promise<void> {
    await this.doc(accountId, keyId).delete();
  }
}
