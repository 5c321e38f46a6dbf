import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CustomerTokens, KeySetError, newSigningKey, rotateKeySet } from '../../functions/src/api/customer-tokens.ts';

const fixedClock = (at: Date) => ({ now: () => at });
const source = (texts: string[]) => {
  let reads = 0;
  return { reads: () => reads, read: async () => texts[Math.min(reads++, texts.length - 1)]! };
};

describe('customer tokens', () => {
  it('mints a token of at most an hour for one account and its scopes, and verifies it', async () => {
    const tokens = new CustomerTokens(source([await rotateKeySet(undefined)]), fixedClock(new Date()));
    const { token, expiresAt } = await tokens.mint({ accountId: 'acc_1', subject: 'u1', scopes: ['deliveries:read'], ttlSeconds: 99_999 });
    assert.ok(expiresAt.getTime() - Date.now() <= 3600_000 + 1000, 'capped at an hour');
    const verified = await tokens.verify(token);
    assert.ok(verified.ok);
    assert.deepEqual([verified.claims.accountId, verified.claims.subject, verified.claims.scopes], ['acc_1', 'u1', ['deliveries:read']]);
  });

  it('a rotation: the new key signs, a token of the old key still verifies, one of a dropped key does not', async () => {
    const first = await rotateKeySet(undefined);
    const minted = await new CustomerTokens(source([first]), fixedClock(new Date())).mint({ accountId: 'a', subject: 's', scopes: ['webhooks:read'], ttlSeconds: 600 });
    const rotated = await rotateKeySet(first);
    const after = new CustomerTokens(source([rotated]), fixedClock(new Date()));
    assert.ok((await after.verify(minted.token)).ok, 'the old key still verifies');
    const newer = await after.mint({ accountId: 'a', subject: 's', scopes: ['webhooks:read'], ttlSeconds: 600 });
    assert.notEqual(JSON.parse(Buffer.from(newer.token.split('.')[0]!, 'base64url').toString()).kid, JSON.parse(Buffer.from(minted.token.split('.')[0]!, 'base64url').toString()).kid);
    const dropped = await rotateKeySet(rotated, 0);
    assert.equal((await new CustomerTokens(source([dropped]), fixedClock(new Date())).verify(minted.token)).ok, false);
  });

  it('a token naming a kid it does not know re-reads the keys once (a rotation published meanwhile)', async () => {
    const old = await rotateKeySet(undefined);
    const rotated = await rotateKeySet(old);
    const minted = await new CustomerTokens(source([rotated]), fixedClock(new Date())).mint({ accountId: 'a', subject: 's', scopes: ['webhooks:read'], ttlSeconds: 600 });
    const keys = source([old, rotated]);
    const verifier = new CustomerTokens(keys, fixedClock(new Date()));
    assert.ok((await verifier.verify(minted.token)).ok);
    assert.equal(keys.reads(), 2);
  });

  it('refuses key documents that are not private keys with a kid', async () => {
    const key = await newSigningKey('k1');
    const { d: _d, ...publicOnly } = key;
    for (const text of ['nope', '{"keys":[]}', JSON.stringify({ keys: [publicOnly] }), JSON.stringify({ keys: [{ ...key, kid: undefined }] }), JSON.stringify({ keys: [key, key] })]) {
      const tokens = new CustomerTokens(source([text]), fixedClock(new Date()));
      await assert.rejects(tokens.mint({ accountId: 'a', subject: 's', scopes: ['webhooks:read'], ttlSeconds: 60 }), KeySetError, text);
    }
  });
});
