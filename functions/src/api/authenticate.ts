/**
 * Who is calling: `Authorization: Bearer <platform API key or customer token>`. A token has three
 * dot-separated base64url parts; anything else is looked up as an API key. Every failure is the same
 * 401 for the caller (the log says which it was), so nothing can be learnt from the answer.
 */
import type { ApiKeyStore } from './api-keys.ts';
import { CUSTOMER_SCOPES, PLATFORM_SCOPE, type CustomerTokens, type Scope } from './customer-tokens.ts';
import type { Actor } from './ports.ts';

export interface Principal {
  kind: 'apiKey' | 'token';
  /** The key's lookup id, or the token's subject. */
  id: string;
  /** null: every account (a platform key not scoped to one). */
  accountId: string | null;
  scopes: ReadonlySet<Scope>;
  actor: Actor;
}

export type Authentication = { ok: true; principal: Principal } | { ok: false; reason: string };

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;
const PLATFORM_SCOPES: ReadonlySet<Scope> = new Set([...CUSTOMER_SCOPES, PLATFORM_SCOPE]);
/** Longer than any key or token we issue; a bigger header is not worth a lookup. */
const MAX_CREDENTIAL_CHARS = 4096;

export async function authenticate(header: string | undefined, deps: { keys: ApiKeyStore; tokens: CustomerTokens; now: Date }): Promise<Authentication> {
  if (!header) return { ok: false, reason: 'no Authorization header' };
  const match = /^Bearer +(\S+)\s*$/i.exec(header);
  if (!match) return { ok: false, reason: 'not a Bearer credential' };
  const credential = match[1]!;
  if (credential.length > MAX_CREDENTIAL_CHARS) return { ok: false, reason: 'credential too long' };
  if (JWT_SHAPE.test(credential)) {
    const verified = await deps.tokens.verify(credential);
    if (!verified.ok) return { ok: false, reason: `token refused: ${verified.reason}` };
    const { claims } = verified;
    return { ok: true, principal: { kind: 'token', id: claims.subject, accountId: claims.accountId, scopes: new Set(claims.scopes), actor: `token:${claims.subject}` } };
  }
  const record = await deps.keys.find(credential);
  if (!record) return { ok: false, reason: 'unknown API key' };
  if (record.revokedAt) return { ok: false, reason: `API key ${record.id} is revoked` };
  return { ok: true, principal: { kind: 'apiKey', id: record.id, accountId: record.accountId, scopes: PLATFORM_SCOPES, actor: `apiKey:${record.id}` } };
}

/** Whether the credential may act for this account at all (else the account is "not found"). */
export const mayActFor = (principal: Principal, accountId: string): boolean => principal.accountId === null || principal.accountId === accountId;
