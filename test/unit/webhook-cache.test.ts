import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock } from '../../functions/src/core/ports.ts';
import { hasEnded } from '../../functions/src/delivery/delivery-record.ts';
import type { DeliveryLog, ModifyChange, StoredDelivery } from '../../functions/src/delivery/ports.ts';
import { DEFAULT_LEASE_TIMING } from '../../functions/src/delivery/lease.ts';
import { dispatchEvent } from '../../functions/src/dispatch/dispatch-event.ts';
import type { EventMessage } from '../../functions/src/events/event-message.ts';
import { createMemoryLogger } from '../../functions/src/log/logger.ts';
import type { OutgoingRequest } from '../../functions/src/render/build-request.ts';
import { TemplateEngine } from '../../functions/src/render/template-engine.ts';
import { CachedWebhookStore } from '../../functions/src/webhooks/cached-webhook-store.ts';
import type { StoredWebhook, WebhookStore } from '../../functions/src/webhooks/webhook-store.ts';

// The warm-instance path of the dispatcher, pure core only: the webhook cache (CachedWebhookStore), the
// dispatcher's parse of each stored webhook and the request plan of each version, with in-memory ports.
// What a deployed instance shows from outside (an edit seen once the cache period ends) is checked on
// the bundle in test/integration/webhook-cache.test.ts; how many times templates are prepared cannot be
// seen from outside a process, so it is counted here.

class CountingEngine extends TemplateEngine {
  prepared = 0;
  override prepare(...args: Parameters<TemplateEngine['prepare']>) {
    this.prepared++;
    return super.prepare(...args);
  }
}

/** Like Firestore: every query returns new objects for the documents as they are now. */
class MemoryWebhooks implements WebhookStore {
  documents = new Map<string, unknown>();
  async subscribed(_accountId: string, type: string): Promise<StoredWebhook[]> {
    return [...this.documents].filter(([, data]) => (data as { events: string[] }).events.includes(type)).map(([id, data]) => ({ id, data: structuredClone(data) }));
  }
  async get(_accountId: string, webhookId: string): Promise<StoredWebhook | undefined> {
    const data = this.documents.get(webhookId);
    return data === undefined ? undefined : { id: webhookId, data: structuredClone(data) };
  }
}

class MemoryDeliveries implements DeliveryLog {
  records = new Map<string, StoredDelivery>();
  private key = (k: { accountId: string; webhookId: string; eventId: string }) => `${k.accountId}/${k.webhookId}/${k.eventId}`;
  async claim(record: StoredDelivery) {
    const existing = this.records.get(this.key(record));
    if (existing) return { created: false as const, existing };
    this.records.set(this.key(record), record);
    return { created: true as const };
  }
  async modify<T>(key: Parameters<DeliveryLog['get']>[0], change: (record: StoredDelivery | undefined) => ModifyChange<T>): Promise<T> {
    const { write, result } = change(this.records.get(this.key(key)));
    if (write) this.records.set(this.key(key), { ...this.records.get(this.key(key))!, ...write });
    return result;
  }
  async end(key: Parameters<DeliveryLog['end']>[0], fields: Parameters<DeliveryLog['end']>[1]) {
    const current = this.records.get(this.key(key));
    if (!current || hasEnded(current.status)) return false;
    this.records.set(this.key(key), { ...current, ...fields });
    return true;
  }
  async update(key: Parameters<DeliveryLog['update']>[0], update: Parameters<DeliveryLog['update']>[1]) {
    this.records.set(this.key(key), { ...this.records.get(this.key(key))!, ...update });
    return true;
  }
  async get(key: Parameters<DeliveryLog['get']>[0]) {
    return this.records.get(this.key(key));
  }
}

describe('webhook cache on a warm instance (dispatcher core, in-memory ports)', () => {
  it('prepares a webhook version once for all its events, and an edit once the cache period ends', async () => {
    let offsetMs = 0;
    const clock: Clock = { now: () => new Date(Date.now() + offsetMs) };
    const engine = new CountingEngine();
    const store = new MemoryWebhooks();
    const sent: OutgoingRequest[] = [];
    const deps = {
      engine,
      sender: { send: async (request: OutgoingRequest) => (sent.push(request), { kind: 'response' as const, status: 200, headers: {}, body: Buffer.from('ok'), truncated: false, durationMs: 1 }) },
      deliveries: new MemoryDeliveries(),
      eventClaims: { claim: async () => ({ created: true as const }), takeOver: async () => true, get: async () => undefined },
      scheduler: { schedule: async () => {} },
      clock,
      logger: createMemoryLogger(),
      retry: { baseDelaySeconds: 60, retryAfterCapSeconds: 3600 },
      timing: DEFAULT_LEASE_TIMING,
      webhooks: new CachedWebhookStore(store, 60_000, clock),
      invalidEvents: { record: async () => {} },
      secrets: { secretsFor: async () => ({}) },
      retentionDays: 30,
      concurrency: 4,
      maxWebhooksPerEvent: 50,
    };
    let n = 0;
    const deliver = async () => {
      const event: EventMessage = { id: `evt_${++n}`, type: 'call.created', accountId: 'acc_cache', occurredAt: new Date().toISOString(), data: { n } };
      const outcomes = await dispatchEvent(deps, { messageId: `m${n}`, data: Buffer.from(JSON.stringify(event)), attributes: {} });
      assert.deepEqual(outcomes.map((outcome) => outcome.status), ['succeeded']);
      return sent.at(-1)!;
    };

    // Four templates: url, one query value, one header, the body.
    store.documents.set('wh_cache', { name: 'cached', events: ['call.created'], url: 'https://example.com/v1/{{ data.n }}', query: { n: '{{ data.n }}' }, headers: { 'X-Event': '{{ event.id }}' }, body: '{"version": 1, "n": {{ data.n }}}' });
    for (const expected of [1, 2, 3]) {
      const request = await deliver();
      assert.equal(request.url, `https://example.com/v1/${expected}?n=${expected}`);
      assert.deepEqual(JSON.parse(request.body!), { version: 1, n: expected });
    }
    assert.equal(engine.prepared, 4, 'one version of four templates is prepared once, whatever the number of events');

    store.documents.set('wh_cache', { name: 'cached', events: ['call.created'], url: 'https://example.com/v2/{{ data.n }}', headers: { 'X-Event': '{{ event.id }}' }, body: '{"version": 2, "n": {{ data.n }}}' });
    // Within the cache period the instance still sends the version it read (README: stale up to WEBHOOK_CACHE_SECONDS).
    assert.deepEqual(JSON.parse((await deliver()).body!), { version: 1, n: 4 });
    assert.equal(engine.prepared, 4);

    offsetMs += 61_000;
    const edited = await deliver();
    assert.equal(edited.url, 'https://example.com/v2/5');
    assert.deepEqual(JSON.parse(edited.body!), { version: 2, n: 5 });
    assert.equal(engine.prepared, 7, 'the edited version (three templates) is prepared once');
  });
});
