import { FieldPath, type DocumentSnapshot, type Firestore } from '@google-cloud/firestore';
import type { AuditEntry, VersionedWebhook, WebhookEditor, WriteResult } from '../api/ports.ts';
import type { Logger } from '../log/logger.ts';
import { auditPath, webhookPath, webhooksPath } from './firestore-layout.ts';
import { fromFirestore, isAlreadyExists, versionOf } from './firestore-values.ts';
import { runQuery } from './query-shape.ts';

const versioned = (snapshot: DocumentSnapshot): VersionedWebhook => ({
  id: snapshot.id,
  data: fromFirestore<Record<string, unknown>>(snapshot.data() ?? {}),
  version: versionOf(snapshot.updateTime!),
});

/**
 * The webhooks collection as the management API edits it. Writes run in a transaction that reads the
 * document, checks the version the caller saw (its If-Match), writes it whole and adds the audit entry
 * under accounts/{a}/audit, so a console edit in between is never silently overwritten and no change
 * goes unaudited. The version returned is read back after the commit.
 */
export class FirestoreWebhookEditor implements WebhookEditor {
  private readonly db: Firestore;
  private readonly logger: Logger;

  constructor(db: Firestore, logger: Logger) {
    this.db = db;
    this.logger = logger;
  }

  async list(accountId: string, page: { afterId: string | undefined; limit: number }): Promise<VersionedWebhook[]> {
    let query = this.db.collection(webhooksPath(accountId)).orderBy(FieldPath.documentId()).limit(page.limit);
    if (page.afterId !== undefined) query = query.startAfter(page.afterId);
    const snapshot = await runQuery(query, this.logger);
    return snapshot.docs.map(versioned);
  }

  async read(accountId: string, webhookId: string): Promise<VersionedWebhook | undefined> {
    const snapshot = await this.db.doc(webhookPath(accountId, webhookId)).get();
    return snapshot.exists ? versioned(snapshot) : undefined;
  }

  async create(accountId: string, webhookId: string, document: Record<string, unknown>, audit: (after: Record<string, unknown>) => AuditEntry): Promise<WriteResult> {
    const batch = this.db.batch();
    batch.create(this.db.doc(webhookPath(accountId, webhookId)), document);
    batch.create(this.db.collection(auditPath(accountId)).doc(), { ...audit(document), at: new Date() });
    try {
      await batch.commit();
    } catch (error) {
      if (isAlreadyExists(error)) return { ok: false, reason: 'exists' };
      throw error;
    }
    return this.after(accountId, webhookId);
  }

  async update(
    accountId: string,
    webhookId: string,
    ifVersion: string | undefined,
    change: (current: VersionedWebhook) => Record<string, unknown> | undefined,
    audit: (before: Record<string, unknown>, after: Record<string, unknown>) => AuditEntry,
  ): Promise<WriteResult> {
    const ref = this.db.doc(webhookPath(accountId, webhookId));
    const outcome = await this.db.runTransaction(async (tx): Promise<'missing' | 'changed' | 'written' | 'unchanged'> => {
      const snapshot = await tx.get(ref);
      if (!snapshot.exists) return 'missing';
      const current = versioned(snapshot);
      if (ifVersion !== undefined && current.version !== ifVersion) return 'changed';
      const next = change(current);
      if (!next) return 'unchanged';
      tx.set(ref, next);
      tx.create(this.db.collection(auditPath(accountId)).doc(), { ...audit(current.data, next), at: new Date() });
      return 'written';
    });
    if (outcome === 'missing' || outcome === 'changed') return { ok: false, reason: outcome };
    return this.after(accountId, webhookId);
  }

  async remove(accountId: string, webhookId: string, ifVersion: string | undefined, audit: (before: Record<string, unknown>) => AuditEntry): Promise<{ ok: true } | { ok: false; reason: 'missing' | 'changed' }> {
    const ref = this.db.doc(webhookPath(accountId, webhookId));
    const outcome = await this.db.runTransaction(async (tx): Promise<'missing' | 'changed' | 'deleted'> => {
      const snapshot = await tx.get(ref);
      if (!snapshot.exists) return 'missing';
      const current = versioned(snapshot);
      if (ifVersion !== undefined && current.version !== ifVersion) return 'changed';
      tx.delete(ref);
      tx.create(this.db.collection(auditPath(accountId)).doc(), { ...audit(current.data), at: new Date() });
      return 'deleted';
    });
    return outcome === 'deleted' ? { ok: true } : { ok: false, reason: outcome };
  }

  async audit(accountId: string, entry: AuditEntry): Promise<void> {
    await this.db.collection(auditPath(accountId)).add({ ...entry, at: new Date() });
  }

  private async after(accountId: string, webhookId: string): Promise<WriteResult> {
    const webhook = await this.read(accountId, webhookId);
    // Deleted between the commit and this read: as if the write had come just before the delete.
    return webhook ? { ok: true, webhook } : { ok: false, reason: 'missing' };
  }
}
