import type { EventType } from '../events/event-catalogue.ts';

/**
 * A webhook id as Firestore allows it for a document (the console may write any): no `/`, at most 1500
 * characters, not `.` or `..`, not `__…__`. The API, the dispatcher and the retry worker accept the same.
 */
export const WEBHOOK_ID = /^(?!\.\.?$)(?!__.*__$)[^/]{1,1500}$/;

/** A webhook document as stored, not yet validated. */
export interface StoredWebhook {
  id: string;
  data: unknown;
}

export interface WebhookStore {
  /** The account's webhook documents whose `events` contain the type (enabled or not). */
  subscribed(accountId: string, type: EventType): Promise<StoredWebhook[]>;
  get(accountId: string, webhookId: string): Promise<StoredWebhook | undefined>;
}
