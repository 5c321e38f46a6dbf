import type { Firestore } from '@google-cloud/firestore';
import type { EventType } from '../events/event-catalogue.ts';
import type { StoredWebhook, WebhookStore } from '../dispatch/ports.ts';
import { webhookPath, webhooksPath, WEBHOOKS_BY_EVENT_TYPE } from './firestore-layout.ts';

const [eventsField] = WEBHOOKS_BY_EVENT_TYPE.fields;

export class FirestoreWebhookStore implements WebhookStore {
  private readonly db: Firestore;

  constructor(db: Firestore) {
    this.db = db;
  }

  async subscribed(accountId: string, type: EventType): Promise<StoredWebhook[]> {
    // One query per (account, type); the path scopes it to this account, so no other account's
    // webhook can ever be returned.
    const snapshot = await this.db.collection(webhooksPath(accountId)).where(eventsField!.fieldPath, 'array-contains', type).get();
    return snapshot.docs.map((doc) => ({ id: doc.id, data: doc.data() }));
  }

  async get(accountId: string, webhookId: string): Promise<StoredWebhook | undefined> {
    const doc = await this.db.doc(webhookPath(accountId, webhookId)).get();
    return doc.exists ? { id: doc.id, data: doc.data() } : undefined;
  }
}
