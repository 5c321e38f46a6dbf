import { createHmac } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com): receivers verify
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<body>">` with the shared secret,
 * and reject stale timestamps to stop replays. The secret is `whsec_` + base64 of 24-64 random bytes,
 * as the standard's libraries expect.
 */
export const SIGNING_SECRET_PREFIX = 'whsec_';

/** The HMAC key of a secret, or a reason it is unusable. */
export function signingKey(secret: string): { ok: true; key: Buffer } | { ok: false; reason: string } {
  const encoded = secret.startsWith(SIGNING_SECRET_PREFIX) ? secret.slice(SIGNING_SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || key.length < 24 || key.length > 64) {
    return { ok: false, reason: 'must be whsec_ followed by the base64 of 24 to 64 random bytes, e.g. whsec_$(openssl rand -base64 32)' };
  }
  return { ok: true, key };
}

/**
 * The headers of one signed request. With more than one key (a rotation's overlap: the new secret first,
 * then the previous one) `webhook-signature` carries one `v1,` signature per key, space-separated, as the
 * standard allows: a receiver verifying with either secret accepts the request.
 */
export function signatureHeaders(keys: readonly Buffer[], messageId: string, timestampSeconds: number, body: string): Record<string, string> {
  const signed = `${messageId}.${timestampSeconds}.${body}`;
  const signatures = keys.map((key) => `v1,${createHmac('sha256', key).update(signed).digest('base64')}`);
  return { 'webhook-id': messageId, 'webhook-timestamp': String(timestampSeconds), 'webhook-signature': signatures.join(' ') };
}
