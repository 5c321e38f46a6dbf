import type { StoredValidation } from './validate-webhook.ts';

/** A webhook document with the version (update time) it was read at. */
export interface WebhookDocument {
  data: Record<string, unknown>;
  version: string;
}

/** What the validation trigger reads and writes. */
export interface WebhookDocumentStore {
  read(accountId: string, webhookId: string): Promise<WebhookDocument | undefined>;
  /** Writes the `validation` map unless the document changed since `version`; false when it did. */
  writeValidation(accountId: string, webhookId: string, validation: StoredValidation, version: string): Promise<boolean>;
}
