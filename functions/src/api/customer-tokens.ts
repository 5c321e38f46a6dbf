/**
 * Customer tokens: short-lived JWTs (at most an hour) for one account and a set of scopes, minted by the
 * platform with its API key (POST /v1/accounts/{accountId}/portal-sessions) and used by the portal and
 * customers' own scripts. Signed with EdDSA (Ed25519) or ES256 keys that carry a `kid`.
 *
 * Key material is a JSON document `{"keys": [<private JWK with kid>, ...]}`: the first key signs, every
 * key verifies. To rotate: put a new key first and keep the old one after it for at least an hour
 * (the longest token lifetime), then drop it. Production keeps the document in Secret Manager
 * (API_JWT_KEYS_SECRET); the local stack in a file (API_JWT_KEYS_FILE). It is re-read every 5 minutes,
 * and at once (at most every 30 s) when a token names a kid not in it, so a rotation is seen quickly.
 */
import { randomBytes } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type CryptoKey, type JWK, type JWTPayload, type KeyObject } from 'jose';
import type { Clock } from '../core/ports.ts';

export const CUSTOMER_SCOPES = ['webhooks:read', 'webhooks:write', 'deliveries:read', 'deliveries:replay'] as const;
export type CustomerScope = (typeof CUSTOMER_SCOPES)[number];
/** Held by platform API keys only: a token can never mint another token. */
export const PLATFORM_SCOPE = 'portal-sessions:create';
export type Scope = CustomerScope | typeof PLATFORM_SCOPE;

export const TOKEN_ISSUER = 'hookshape';
export const TOKEN_AUDIENCE = 'hookshape-api';
export const MAX_TOKEN_SECONDS = 3600;
const ALGORITHMS = ['EdDSA', 'ES256'];
const RELOAD_MS = 5 * 60_000;
const UNKNOWN_KID_RELOAD_MS = 30_000;
/** Clocks of the minting platform and of Google differ by a little. */
const CLOCK_TOLERANCE_SECONDS = 5;

/** Reads the key document (its JSON text) from wherever it is kept. */
export interface SigningKeySource {
  read(): Promise<string>;
}

type Key = CryptoKey | KeyObject | Uint8Array;
interface KeySet {
  signing: { kid: string; alg: string; key: Key };
  verifying: Map<string, { alg: string; key: Key }>;
}

export class KeySetError extends Error {
  override name = 'KeySetError';
}

const algOf = (jwk: JWK): string => (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' ? 'EdDSA' : jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : '');

async function parseKeySet(text: string): Promise<KeySet> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new KeySetError('the token signing keys are not JSON');
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new KeySetError('the token signing keys document has no "keys" list');
  const verifying = new Map<string, { alg: string; key: Key }>();
  let signing: KeySet['signing'] | undefined;
  for (const [index, jwk] of (keys as JWK[]).entries()) {
    const alg = algOf(jwk);
    if (!alg || typeof jwk.kid !== 'string' || !jwk.kid || typeof jwk.d !== 'string') throw new KeySetError(`token signing key ${index} must be a private Ed25519 or P-256 JWK with a kid`);
    if (verifying.has(jwk.kid)) throw new KeySetError(`two token signing keys have the kid ${jwk.kid}`);
    const { d: _private, ...publicJwk } = jwk;
    verifying.set(jwk.kid, { alg, key: await importJWK(publicJwk, alg) });
    if (index === 0) signing = { kid: jwk.kid, alg, key: await importJWK(jwk, alg) };
  }
  return { signing: signing!, verifying };
}

export interface TokenClaims {
  accountId: string;
  subject: string;
  scopes: CustomerScope[];
  kid: string;
  expiresAt: Date;
}

export type VerifiedToken = { ok: true; claims: TokenClaims } | { ok: false; reason: string };

export class CustomerTokens {
  private readonly source: SigningKeySource;
  private readonly clock: Clock;
  private keySet: { at: number; value: Promise<KeySet> } | undefined;
  private lastUnknownKidReload = 0;

  constructor(source: SigningKeySource, clock: Clock) {
    this.source = source;
    this.clock = clock;
  }

  private keys(force = false): Promise<KeySet> {
    const now = Date.now();
    if (!force && this.keySet && now - this.keySet.at < RELOAD_MS) return this.keySet.value;
    const value = this.source.read().then(parseKeySet);
    value.catch(() => this.keySet?.value === value && (this.keySet = undefined));
    this.keySet = { at: now, value };
    return value;
  }

  async mint(options: { accountId: string; subject: string; scopes: readonly CustomerScope[]; ttlSeconds: number }): Promise<{ token: string; expiresAt: Date }> {
    const { signing } = await this.keys();
    const issuedAt = Math.floor(this.clock.now().getTime() / 1000);
    const ttl = Math.min(Math.max(1, Math.floor(options.ttlSeconds)), MAX_TOKEN_SECONDS);
    const token = await new SignJWT({ acc: options.accountId, scope: options.scopes.join(' ') })
      .setProtectedHeader({ alg: signing.alg, kid: signing.kid, typ: 'JWT' })
      .setIssuer(TOKEN_ISSUER)
      .setAudience(TOKEN_AUDIENCE)
      .setSubject(options.subject)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + ttl)
      .setJti(randomBytes(12).toString('base64url'))
      .sign(signing.key);
    return { token, expiresAt: new Date((issuedAt + ttl) * 1000) };
  }

  /** Never throws for a bad token (only when the keys cannot be read). */
  async verify(token: string): Promise<VerifiedToken> {
    let keys = await this.keys();
    let kid = '';
    const resolve = async (header: { kid?: string }) => {
      kid = typeof header.kid === 'string' ? header.kid : '';
      let found = keys.verifying.get(kid);
      if (!found && kid && Date.now() - this.lastUnknownKidReload > UNKNOWN_KID_RELOAD_MS) {
        this.lastUnknownKidReload = Date.now();
        keys = await this.keys(true);
        found = keys.verifying.get(kid);
      }
      if (!found) throw new Error('unknown kid');
      return found.key;
    };
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, resolve, {
        algorithms: ALGORITHMS,
        issuer: TOKEN_ISSUER,
        audience: TOKEN_AUDIENCE,
        requiredClaims: ['exp', 'iat', 'nbf', 'sub', 'acc', 'scope'],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        currentDate: this.clock.now(),
      }));
    } catch (error) {
      return { ok: false, reason: (error as { code?: string }).code ?? (error as Error).message };
    }
    const { acc, scope, sub, exp, iat } = payload as JWTPayload & { acc?: unknown; scope?: unknown };
    if (typeof acc !== 'string' || !acc || typeof sub !== 'string' || typeof scope !== 'string') return { ok: false, reason: 'claims of the wrong type' };
    // A token signed for longer than the API ever mints is refused even with a valid signature; so is one
    // that stays valid for more than that from now (an iat in the future would stretch exp - iat's bound).
    const nowSeconds = Math.floor(this.clock.now().getTime() / 1000);
    if (typeof exp !== 'number' || typeof iat !== 'number' || exp - iat > MAX_TOKEN_SECONDS || exp - nowSeconds > MAX_TOKEN_SECONDS + CLOCK_TOLERANCE_SECONDS) return { ok: false, reason: 'lifetime over an hour' };
    const scopes = scope.split(' ').filter(Boolean);
    if (!scopes.every((item) => (CUSTOMER_SCOPES as readonly string[]).includes(item))) return { ok: false, reason: 'unknown scope' };
    return { ok: true, claims: { accountId: acc, subject: sub, scopes: scopes as CustomerScope[], kid, expiresAt: new Date(exp * 1000) } };
  }
}

/** A new private signing key (Ed25519) as a JWK with its kid, for a key document. */
export async function newSigningKey(kid: string = `k${new Date().toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`): Promise<JWK> {
  const { privateKey } = await generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true });
  return { ...(await exportJWK(privateKey)), kid, alg: 'EdDSA', use: 'sig' };
}

/** The key document with a new signing key first and the current ones after it (rotation). */
export async function rotateKeySet(current: string | undefined, keep = 1): Promise<string> {
  const existing = current ? ((JSON.parse(current) as { keys?: JWK[] }).keys ?? []) : [];
  return `${JSON.stringify({ keys: [await newSigningKey(), ...existing.slice(0, keep)] }, null, 2)}\n`;
}
