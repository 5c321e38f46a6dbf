import type { Firestore } from '@google-cloud/firestore';
import type { InvalidEventLog } from '../dispatch/ports.ts';
import { invalidEventPath } from './firestore-layout.ts';
import { isAlreadyExists } from './firestore-values.ts';

/** Unreadable events at invalidEvents/{messageId}: written once, then the message is acknowledged. */
export class FirestoreInvalidEventLog implements InvalidEventLog {
  private readonly db: Firestore;

  constructor(db: Firestore) {
    this.db = db;
  }

  async record(messageId: string, reason: string, message: { data: string | null; attributes: Record<string, string> }): Promise<void> {
    try {
      await this.db.doc(invalidEventPath(messageId)).create({ messageId, reason, data: message.data, attributes: message.attributes, receivedAt: new Date() });
    } catch (error) {
      if (!isAlreadyExists(error)) throw error; // the same message redelivered: already recorded
    }
  }
}
