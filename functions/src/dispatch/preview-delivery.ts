import type { EventMessage } from '../events/event-message.ts';
import { buildRequest, type BuiltRequest, type DeliveryTarget } from '../render/build-request.ts';
import type { TemplateEngine } from '../render/template-engine.ts';
import { filterEvent, type FilterVerdict } from '../webhooks/event-filter.ts';
import type { WebhookConfig } from '../webhooks/webhook-config.ts';

export interface DeliveryPreview {
  /** Whether the dispatcher would deliver the event at all (the webhook's `filter`), and why not. */
  filter: FilterVerdict;
  /** The exact request a delivery would send (rendered even when the filter says no, to show it). */
  built: BuiltRequest;
}

/**
 * What the dispatcher would do with this event for this webhook, by the same code, sending nothing:
 * `hookshape preview` and the API's preview both call this. `secrets` are the values to render with
 * (placeholders where the real ones must not be used).
 */
export async function previewDelivery(webhook: WebhookConfig, event: EventMessage, secrets: Record<string, string>, engine: TemplateEngine, target: DeliveryTarget = 'primary', now: Date = new Date()): Promise<DeliveryPreview> {
  return { filter: filterEvent(webhook, event), built: await buildRequest(webhook, event, secrets, engine, target, now) };
}
