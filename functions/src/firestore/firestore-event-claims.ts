import { randomUUID } from 'node:crypto';
import type { Firestore } from '@google-cloud/firestore';
import type { EventClaim, EventClaimResult, EventClaimStore } from '../delivery/ports.ts';
import { eventClaimPath } from './firestore-layout.ts';
import { createOnce, fromFirestore, isFailedPrecondition } from './firestore-values.ts';

/**
 * The event claims at accounts/{a}/eventClaims/{eventId}. `create` is the idempotency check of a whole
 * event; a takeover is a write conditioned on the version read (as FirestoreDeliveryLog.modify: no
 * server transaction, so an instance killed half-way holds no lock).
 */
const WRITE_ID_FIELD = 'writeId';

export class FirestoreEventClaimStore implements EventClaimStore {
  private readonly db: Firestore;

  constructor(db: Firestore) {
    this.db = db;
  }

  private doc(accountId: string, eventId: string) {
    return this.db.doc(eventClaimPath(accountId, eventId));
  }

  async claim(claim: EventClaim): Promise<EventClaimResult> {
    // claimId is unique to this claim: a create retried after its answer was lost is recognised as ours.
    return createOnce<EventClaim>(this.doc(claim.accountId, claim.eventId), { ...claim }, 'claimId');
  }

  async takeOver(accountId: string, eventId: string, seenClaimedAt: Date, change: Pick<EventClaim, 'claimedAt' | 'takeovers' | 'updatedAt'>): Promise<boolean> {
    const ref = this.doc(accountId, eventId);
    const writeId = randomUUID();
    const current = await ref.get();
    if (!current.exists) return false;
    const stored = fromFirestore<EventClaim>(current.data());
    if (stored.claimedAt.getTime() !== seenClaimedAt.getTime()) return false;
    try {
      await ref.update({ ...change, [WRITE_ID_FIELD]: writeId }, { lastUpdateTime: current.updateTime! });
      return true;
    } catch (error) {
      if (!isFailedPrecondition(error)) throw error;
      // Another takeover moved it first, or the client retried our own applied write: read which.
      return (await ref.get()).get(WRITE_ID_FIELD) === writeId;
    }
  }

  async get(accountId: string, eventId: string): Promise<EventClaim | undefined> {
    const snapshot = await this.doc(accountId, eventId).get();
    return snapshot.exists ? fromFirestore<EventClaim>(snapshot.data()) : undefined;
  }
}
