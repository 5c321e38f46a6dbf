import type { EventType } from '../events/event-catalogue.ts';

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
