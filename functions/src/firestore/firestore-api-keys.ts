import type { Firestore } from '@google-cloud/firestore';
import { generateApiKey, hashKey, keyRecord, lookupId, matchesKey, type ApiKeyRecord, type ApiKeyStore } from '../api/api-keys.ts';
import type { Logger } from '../log/logger.ts';
import { API_KEYS, apiKeyPath } from './firestore-layout.ts';
import { fromFirestore, isAlreadyExists } from './firestore-values.ts';
import { runQuery } from './query-shape.ts';

const TOUCH_EVERY_MS = 60_000;

/** Platform API keys at apiKeys/{lookupId}: hashes only (api/api-keys.ts). */
export class FirestoreApiKeyStore implements ApiKeyStore {
  private readonly db: Firestore;
  private readonly logger: Logger;
  private readonly touched = new Map<string, number>();

  constructor(db: Firestore, logger: Logger) {
    this.db = db;
    this.logger = logger;
  }

  async create(options: { name: string; accountId: string | null; createdBy: string }): Promise<{ key: string; record: ApiKeyRecord }> {
    const key = generateApiKey();
    const record = keyRecord(key, options, new Date());
    await this.db.doc(apiKeyPath(record.id)).create(record);
    return { key, record };
  }

  async register(key: string, options: { name: string; accountId: string | null; createdBy: string }): Promise<ApiKeyRecord> {
    if (!key) throw new Error('an empty API key cannot be registered');
    const record = keyRecord(key, options, new Date());
    try {
      await this.db.doc(apiKeyPath(record.id)).create(record);
      return record;
    } catch (error) {
      if (!isAlreadyExists(error)) throw error;
    }
    // Registered before (a restarted local stack): the same key, kept as it is unless it was revoked.
    const existing = await this.read(record.id);
    if (!existing || existing.hash !== record.hash) throw new Error('another key has the same lookup id');
    if (existing.revokedAt || existing.accountId !== record.accountId) {
      await this.db.doc(apiKeyPath(record.id)).set(record);
      return record;
    }
    return existing;
  }

  async list(): Promise<ApiKeyRecord[]> {
    const snapshot = await runQuery(this.db.collection(API_KEYS), this.logger);
    return snapshot.docs.map((doc) => fromFirestore<ApiKeyRecord>(doc.data())).sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  async revoke(id: string, at: Date): Promise<boolean> {
    if (!/^[0-9a-f]{20}$/.test(id)) return false;
    return this.db.runTransaction(async (tx) => {
      const ref = this.db.doc(apiKeyPath(id));
      const snapshot = await tx.get(ref);
      if (!snapshot.exists) return false;
      if (!snapshot.get('revokedAt')) tx.update(ref, { revokedAt: at });
      return true;
    });
  }

  async find(key: string): Promise<ApiKeyRecord | undefined> {
    const record = await this.read(lookupId(hashKey(key)));
    return record && matchesKey(record, key) ? record : undefined;
  }

  async touch(id: string, at: Date): Promise<void> {
    const last = this.touched.get(id);
    if (last !== undefined && at.getTime() - last < TOUCH_EVERY_MS) return;
    this.touched.set(id, at.getTime());
    await this.db.doc(apiKeyPath(id)).update({ lastUsedAt: at });
  }

  private async read(id: string): Promise<ApiKeyRecord | undefined> {
    const snapshot = await this.db.doc(apiKeyPath(id)).get();
    return snapshot.exists ? fromFirestore<ApiKeyRecord>(snapshot.data()) : undefined;
  }
}
