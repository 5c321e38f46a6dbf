import type { CloudEvent } from '@google-cloud/functions-framework';
import { ACCOUNTS, WEBHOOKS } from '../firestore/firestore-layout.ts';
import { validateStoredWebhook, type ValidationDeps } from '../validation/validate-stored-webhook.ts';

const WEBHOOK_DOCUMENT = new RegExp(`^(?:documents/)?${ACCOUNTS}/([^/]+)/${WEBHOOKS}/([^/]+)$`);

/** accounts/A/webhooks/W from a Firestore CloudEvent: its subject (`documents/...`), else `document`. */
export function webhookOfEvent(cloudEvent: Pick<CloudEvent<unknown>, 'subject'> & Record<string, unknown>): { accountId: string; webhookId: string } | undefined {
  for (const candidate of [cloudEvent.subject, cloudEvent['document']]) {
    if (typeof candidate !== 'string') continue;
    const match = WEBHOOK_DOCUMENT.exec(candidate);
    if (match) return { accountId: decodeURIComponent(match[1]!), webhookId: decodeURIComponent(match[2]!) };
  }
  return undefined;
}

/**
 * The CloudEvent entry of validateWebhook (Eventarc, google.cloud.firestore.document.v1.written on
 * accounts/{accountId}/webhooks/{webhookId}). Eventarc sends the document as protobuf; it is not
 * decoded: the path is enough, and the document is re-read (the stored version is the truth).
 * Deployed with RETRY_POLICY_DO_NOT_RETRY: a failure is logged, the next write validates again.
 */
export function createValidateWebhookHandler(deps: () => ValidationDeps) {
  return async (cloudEvent: CloudEvent<unknown>): Promise<void> => {
    const d = deps();
    const webhook = webhookOfEvent(cloudEvent as CloudEvent<unknown> & Record<string, unknown>);
    if (!webhook) {
      d.logger.log('WARNING', `validateWebhook ignored an event that is not about a webhook document: ${String(cloudEvent.subject ?? cloudEvent['document' as keyof typeof cloudEvent] ?? '(no subject)')}`, { type: cloudEvent.type ?? null, id: cloudEvent.id ?? null });
      return;
    }
    try {
      await validateStoredWebhook(d, webhook.accountId, webhook.webhookId);
    } catch (error) {
      d.logger.log('ERROR', `validation of webhook ${webhook.webhookId} interrupted; it runs again on the next write: ${(error as Error).message}`, { ...webhook });
      throw error;
    }
  };
}
