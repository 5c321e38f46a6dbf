/**
 * The realistic delivery every section measures: the Airtable-style demo webhook of `npm start`
 * (17 outputs, filters, dates, a loop, a secret header) and the catalogue's call.created sample with
 * five tags, so the loop runs five times. The rendered JSON body is about 0.9 KB.
 */
import { DEMO_ACCOUNT, DEMO_BODY, DEMO_SECRETS, DEMO_WEBHOOK_ID, demoWebhook } from '../../functions/dev/demo-webhook.ts';
import { type DeliveryLog, type EventClaimStore, type RetryScheduler } from '../../functions/src/delivery/ports.ts';
import { type WebhookStore } from '../../functions/src/webhooks/webhook-store.ts';
import { type InvalidEventLog } from '../../functions/src/dispatch/ports.ts';
import { sampleEvent } from '../../functions/src/events/event-catalogue.ts';
import type { EventMessage } from '../../functions/src/events/event-message.ts';
import { parseWebhookConfig, type WebhookConfig } from '../../functions/src/webhooks/webhook-config.ts';

export { DEMO_ACCOUNT, DEMO_BODY, DEMO_SECRETS, DEMO_WEBHOOK_ID, demoWebhook };

export const TAGS = ['venta', 'hogar-plus', 'renovacion', 'prioridad', 'nps-9'];

/** The call.created sample with five tags (the template's loop runs five times). */
export function benchEvent(id = 'evt_bench_call_created', accountId = DEMO_ACCOUNT): EventMessage {
  const event = sampleEvent('call.created', accountId);
  return { ...event, id, data: { ...event.data, tags: [...TAGS] } };
}

/** The demo webhook document, validated as the dispatcher validates it (`parse`: the built code's, where a section measures it). */
export function benchWebhook(url: string, id = DEMO_WEBHOOK_ID, accountId = DEMO_ACCOUNT, parse = parseWebhookConfig): WebhookConfig {
  const parsed = parse(accountId, id, demoWebhook(url));
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.webhook;
}

/** In-memory ports: the dispatcher's own code without Firestore (a claim always succeeds). */
export function memoryPorts(documents: Array<{ id: string; data: unknown }>): {
  webhooks: WebhookStore;
  deliveries: DeliveryLog;
  eventClaims: EventClaimStore;
  invalidEvents: InvalidEventLog;
  scheduler: RetryScheduler;
} {
  return {
    webhooks: { subscribed: async () => documents, get: async (_account, id) => documents.find((doc) => doc.id === id) },
    deliveries: {
      claim: async () => ({ created: true }),
      modify: async (_key, change) => change(undefined).result,
      update: async () => true,
      end: async () => true,
      get: async () => undefined,
    },
    eventClaims: { claim: async () => ({ created: true }), takeOver: async () => true, get: async () => undefined },
    invalidEvents: { record: async () => {} },
    scheduler: { schedule: async () => {} },
  };
}
