import type { EventMessage } from '../events/event-message.ts';
import { buildRequest, type BuiltRequest, type DeliveryTarget } from '../render/build-request.ts';
import type { TemplateEngine } from '../render/template-engine.ts';
import { filterEvent, type FilterVerdict } from '../webhooks/event-filter.ts';
import type { WebhookConfig } from '../webhooks/webhook-config.ts';

export interface DeliveryPreview {
  /** Whether the dispatcher would deliver the event at all (the webhook's `filter`), and why not. */
  filter: FilterVerdict;
  /**
   * The exact request a delivery would send (rendered even when the filter says no, to show it), but
   * for the header `auth` sets: it names its credential instead of holding it (`Bearer [secret:TOKEN]`).
   */
  built: BuiltRequest;
}

/** What the credential header of `auth` carries, without its value. */
function describedAuth(auth: NonNullable<WebhookConfig['auth']>): { name: string; value: string } {
  switch (auth.type) {
    case 'basic':
      return { name: 'Authorization', value: `Basic [base64 of ${auth.username}:[secret:${auth.passwordSecretName}]]` };
    case 'bearer':
      return { name: 'Authorization', value: `Bearer [secret:${auth.tokenSecretName}]` };
    case 'header':
      return { name: auth.name, value: `[secret:${auth.valueSecretName}]` };
    case 'oauth2': {
      const url = new URL(auth.tokenUrl);
      return { name: 'Authorization', value: `Bearer [OAuth2 access token from ${url.origin}${url.pathname} for client ${auth.clientId}, fetched at send time]` };
    }
  }
}

/**
 * What the dispatcher would do with this event for this webhook, by the same code, sending nothing:
 * `hookshape preview` and the API's preview both call this. `secrets` are the values to render with
 * (placeholders where the real ones must not be used).
 */
export async function previewDelivery(webhook: WebhookConfig, event: EventMessage, secrets: Record<string, string>, engine: TemplateEngine, target: DeliveryTarget = 'primary', now: Date = new Date()): Promise<DeliveryPreview> {
  const filter = filterEvent(webhook, event);
  const built = await buildRequest(webhook, event, secrets, engine, target, now);
  if (!built.ok || !webhook.auth) return { filter, built };
  const { name, value } = describedAuth(webhook.auth);
  const headers = Object.fromEntries(Object.entries(built.request.headers).filter(([header]) => header.toLowerCase() !== name.toLowerCase()));
  return { filter, built: { ok: true, request: { ...built.request, headers: { [name]: value, ...headers } } } };
}
