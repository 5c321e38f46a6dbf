import type { EventType } from '../events/event-catalogue.ts';
import type { Clock } from '../core/ports.ts';
import type { StoredWebhook, WebhookStore } from './webhook-store.ts';

const MAX_ENTRIES = 10_000;

/**
 * Keeps each (account, event type) query result for a few seconds on a warm instance, so a burst of
 * events costs one query. An edited webhook is seen at the latest `ttlMs` later (WEBHOOK_CACHE_SECONDS);
 * there is no push invalidation across instances. Single reads (the retry worker) are not cached.
 */
export class CachedWebhookStore implements WebhookStore {
  private readonly inner: WebhookStore;
  private readonly ttlMs: number;
  private readonly clock: Clock;
  private readonly entries = new Map<string, { at: number; value: Promise<StoredWebhook[]> }>();

  constructor(inner: WebhookStore, ttlMs: number, clock: Clock) {
    this.inner = inner;
    this.ttlMs = ttlMs;
    this.clock = clock;
  }

  subscribed(accountId: string, type: EventType): Promise<StoredWebhook[]> {
    if (this.ttlMs <= 0) return this.inner.subscribed(accountId, type);
    const key = `${accountId}\u0000${type}`;
    const now = this.clock.now().getTime();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value;
    // Concurrent events share one query; a failed query is not kept.
    const value = this.inner.subscribed(accountId, type);
    value.catch(() => this.entries.get(key)?.value === value && this.entries.delete(key));
    this.entries.delete(key);
    this.entries.set(key, { at: now, value });
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    return value;
  }

  get(accountId: string, webhookId: string): Promise<StoredWebhook | undefined> {
    return this.inner.get(accountId, webhookId);
  }
}
