import { createHash } from 'node:crypto';

/**
 * Fields of a webhook document that hookshape writes itself (or that do not change what is sent):
 * they are left out of the config hash, so that writing them never makes a validation stale, and the
 * validator's own write of `validation` does not trigger another validation (no loop).
 */
export const NON_CONFIG_FIELDS = ['validation', 'health', 'disabled', 'enabled', 'previousSigningSecret', 'signingSecretSetAt'] as const;

/** JSON with object keys sorted at every level: the same document always gives the same text. */
export function stableJson(value: unknown): string {
  if (value === null || value === undefined) return 'null';
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (typeof value === 'object') {
    // Firestore values such as Timestamp serialise through toJSON; plain maps key by key.
    const withJson = value as { toJSON?: () => unknown };
    if (typeof withJson.toJSON === 'function' && !(value instanceof Date)) return stableJson(withJson.toJSON());
    if (value instanceof Date) return JSON.stringify(value.toISOString());
    const entries = Object.entries(value as Record<string, unknown>).filter(([, item]) => item !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${stableJson(item)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A hash of what a webhook document configures: equal hashes, same validation result. */
export function webhookConfigHash(document: unknown): string {
  const config: Record<string, unknown> = { ...(document && typeof document === 'object' ? (document as Record<string, unknown>) : {}) };
  for (const field of NON_CONFIG_FIELDS) delete config[field];
  return createHash('sha256').update(stableJson(config)).digest('hex').slice(0, 32);
}
