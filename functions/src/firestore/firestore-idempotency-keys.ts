import { randomUUID } from 'node:crypto';
import type { DocumentReference, Firestore, Timestamp } from '@google-cloud/firestore';
import type { IdempotencyRecord, IdempotencyStore, KeptAnswer } from '../api/ports.ts';
import { IDEMPOTENCY_KEY_EXPIRY_FIELD, idempotencyKeyPath } from './firestore-layout.ts';
import { fromFirestore, isAlreadyExists, isFailedPrecondition } from './firestore-values.ts';

/**
 * The owner token of the request that took the key (a random UUID per take): only it may give the key
 * its answer or free it; and a create retried after a lost answer recognises its own first try by it.
 */
const OWNER_FIELD = 'writeId';
/** Creates met by a record that is gone when read (freed meanwhile) before answering "in use". */
const BEGIN_ROUNDS = 3;

/** The record's own fields (not the store's bookkeeping: expiry, owner). */
const recordOf = (data: unknown): IdempotencyRecord => {
  const { requestHash, startedAt, answer } = fromFirestore<IdempotencyRecord>(data);
  return { requestHash, startedAt, answer: answer ?? null };
};

/**
 * Idempotency-Keys at accounts/{a}/idempotencyKeys/{sha256 of the key}: created when a request takes
 * its key, given the answer when it succeeds, deleted when it does not; the TTL policy on `expiresAt`
 * deletes the rest some time after a day (api/idempotency.ts no longer counts them by then).
 */
export class FirestoreIdempotencyKeys implements IdempotencyStore {
  private readonly db: Firestore;

  constructor(db: Firestore) {
    this.db = db;
  }

  private doc(accountId: string, keyId: string) {
    return this.db.doc(idempotencyKeyPath(accountId, keyId));
  }

  async begin(accountId: string, keyId: string, record: IdempotencyRecord, expiresAt: Date): Promise<{ taken: true; owner: string } | { taken: false; existing: IdempotencyRecord }> {
    const ref = this.doc(accountId, keyId);
    const owner = randomUUID();
    for (let round = 1; ; round += 1) {
      try {
        await ref.create({ ...record, [IDEMPOTENCY_KEY_EXPIRY_FIELD]: expiresAt, [OWNER_FIELD]: owner });
        return { taken: true, owner };
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
      const current = await ref.get();
      if (current.exists) return current.get(OWNER_FIELD) === owner ? { taken: true, owner } : { taken: false, existing: recordOf(current.data()) };
      // Freed between the create and the read: take it again. Past a few rounds, as if held (a 409 to retry).
      if (round >= BEGIN_ROUNDS) return { taken: false, existing: { ...record, answer: null } };
    }
  }

  async takeOver(accountId: string, keyId: string, seenStartedAt: Date, record: IdempotencyRecord, expiresAt: Date): Promise<string | undefined> {
    const ref = this.doc(accountId, keyId);
    const current = await ref.get();
    // Gone meanwhile (freed, or deleted by TTL): taken again by a create, which another retry may win.
    if (!current.exists) {
      const begun = await this.begin(accountId, keyId, record, expiresAt);
      return begun.taken ? begun.owner : undefined;
    }
    if (recordOf(current.data()).startedAt.getTime() !== seenStartedAt.getTime()) return undefined;
    const owner = randomUUID();
    try {
      // Only the version read: of two retries taking it over at once, one wins.
      await ref.update({ ...record, [IDEMPOTENCY_KEY_EXPIRY_FIELD]: expiresAt, [OWNER_FIELD]: owner }, { lastUpdateTime: current.updateTime! });
      return owner;
    } catch (error) {
      if (isFailedPrecondition(error)) return undefined;
      throw error;
    }
  }

  async finish(accountId: string, keyId: string, owner: string, answer: KeptAnswer): Promise<void> {
    await this.asOwner(accountId, keyId, owner, (ref, lastUpdateTime) => ref.update({ answer }, { lastUpdateTime }));
  }

  async release(accountId: string, keyId: string, owner: string): Promise<void> {
    await this.asOwner(accountId, keyId, owner, (ref, lastUpdateTime) => ref.delete({ lastUpdateTime }));
  }

  /** Writes only while `owner` holds the key (read, then written on that version): else nothing. */
  private async asOwner(accountId: string, keyId: string, owner: string, write: (ref: DocumentReference, lastUpdateTime: Timestamp) => Promise<unknown>): Promise<void> {
    const ref = this.doc(accountId, keyId);
    const current = await ref.get();
    if (!current.exists || current.get(OWNER_FIELD) !== owner) return;
    try {
      await write(ref, current.updateTime!);
    } catch (error) {
      // Taken over between the read and the write: the key is the other request's now.
      if (!isFailedPrecondition(error)) throw error;
    }
  }
}
