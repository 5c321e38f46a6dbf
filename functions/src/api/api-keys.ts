/**
 * Platform API keys: random (`hks_` + 32 random bytes, base64url), shown once when created, stored only
 * as their SHA-256. The document id is the first 20 hex digits of that hash (the lookup prefix), so a
 * presented key is found with one read and compared in full in constant time. A fast hash is right
 * here: a key has 256 random bits, there is nothing to guess. Scoped to every account (`accountId`
 * null: the platform's backend) or to one.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const API_KEY_PREFIX = 'hks_';
/** Shown in listings so a person can tell keys apart; never enough to use one. */
const DISPLAY_CHARS = 10;

export interface ApiKeyRecord {
  /** The lookup id: first 20 hex digits of the key's SHA-256; what `hookshape keys revoke` takes. */
  id: string;
  /** sha256 of the whole key, hex. */
  hash: string;
  /** The key's first characters, e.g. `hks_Ab3xY…`, for people. */
  display: string;
  name: string;
  /** null: every account. */
  accountId: string | null;
  createdAt: Date;
  createdBy: string;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/** What the CLI (`hookshape keys create|list|revoke`) and the API need of the key store. */
export interface ApiKeyStore {
  /** Generates a key and stores its hash; the key itself is in the answer only. */
  create(options: { name: string; accountId: string | null; createdBy: string }): Promise<{ key: string; record: ApiKeyRecord }>;
  /** Registers a key chosen elsewhere (the local stack's HOOKSHAPE_DEV_API_KEY); idempotent. */
  register(key: string, options: { name: string; accountId: string | null; createdBy: string }): Promise<ApiKeyRecord>;
  list(): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked (kept for the audit trail); false when there is no such key. */
  revoke(id: string, at: Date): Promise<boolean>;
  /** The live record of a presented key, undefined when unknown (or it does not match its hash). */
  find(key: string): Promise<ApiKeyRecord | undefined>;
  /** Records a use; at most one write a minute per key and instance. */
  touch(id: string, at: Date): Promise<void>;
}

export const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');
export const lookupId = (hash: string): string => hash.slice(0, 20);

export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function keyRecord(key: string, options: { name: string; accountId: string | null; createdBy: string }, now: Date): ApiKeyRecord {
  const hash = hashKey(key);
  return {
    id: lookupId(hash),
    hash,
    display: `${key.slice(0, DISPLAY_CHARS)}…`,
    name: options.name,
    accountId: options.accountId,
    createdAt: now,
    createdBy: options.createdBy,
    revokedAt: null,
    lastUsedAt: null,
  };
}

/** Whether a stored record is the one of this key: the whole hash, in constant time. */
export function matchesKey(record: Pick<ApiKeyRecord, 'hash'>, key: string): boolean {
  const presented = Buffer.from(hashKey(key), 'hex');
  const stored = Buffer.from(record.hash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}
