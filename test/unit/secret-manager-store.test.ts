/**
 * SecretManagerSecretStore against an in-memory Secret Manager (there is no emulator): its cache, the
 * read a missing named secret triggers, and copySecret. The calls are the client's, as the store makes them.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { GrpcStatus } from '../../functions/src/core/failures.ts';
import { SecretManagerSecretStore, secretId, type SecretManagerCalls } from '../../functions/src/secrets/secret-manager-secret-store.ts';

const PROJECT = 'p';

/** Secret Manager as the store sees it: secrets by id, each its latest value; every call counted. */
class FakeSecretManager {
  readonly values = new Map<string, string>();
  readonly calls: string[] = [];

  readonly client = {
    listSecrets: async (request: { filter?: string }) => {
      this.calls.push('listSecrets');
      const needle = (request.filter ?? '').replace(/^name:/, '');
      return [[...this.values.keys()].filter((id) => id.includes(needle)).map((id) => ({ name: `projects/${PROJECT}/secrets/${id}` }))];
    },
    accessSecretVersion: async (request: { name?: string | null }) => {
      this.calls.push('accessSecretVersion');
      const id = /secrets\/([^/]+)\/versions\/latest$/.exec(request.name ?? '')?.[1] ?? '';
      const value = this.values.get(id);
      if (value === undefined) throw Object.assign(new Error(`secret ${id} not found`), { code: GrpcStatus.NOT_FOUND });
      return [{ payload: { data: Buffer.from(value, 'utf8') } }];
    },
    createSecret: async (request: { secretId?: string | null }) => {
      this.calls.push('createSecret');
      if (this.values.has(request.secretId ?? '')) throw Object.assign(new Error('exists'), { code: GrpcStatus.ALREADY_EXISTS });
      this.values.set(request.secretId ?? '', '');
      return [{}];
    },
    addSecretVersion: async (request: { parent?: string | null; payload?: { data?: Uint8Array | string | null } | null }) => {
      this.calls.push('addSecretVersion');
      const id = /secrets\/([^/]+)$/.exec(request.parent ?? '')?.[1] ?? '';
      this.values.set(id, Buffer.from(request.payload?.data as Uint8Array).toString('utf8'));
      return [{}];
    },
  } as unknown as SecretManagerCalls;

  set(accountId: string, name: string, value: string): void {
    this.values.set(secretId(accountId, name), value);
  }

  reads(): number {
    return this.calls.filter((call) => call === 'listSecrets').length;
  }
}

function world() {
  const manager = new FakeSecretManager();
  let now = 1_000_000;
  const store = new SecretManagerSecretStore(PROJECT, { client: manager.client, now: () => now });
  return { manager, store, advance: (ms: number) => void (now += ms) };
}

describe('Secret Manager secrets, cached per account', () => {
  it("reads an account's secrets once, and only its own, for 5 minutes", async () => {
    const { manager, store, advance } = world();
    manager.set('acc_1', 'TOKEN', 'one');
    manager.set('acc_10', 'TOKEN', 'other account');
    assert.deepEqual(await store.secretsFor('acc_1'), { TOKEN: 'one' });
    manager.set('acc_1', 'TOKEN', 'rotated');
    advance(60_000);
    assert.deepEqual(await store.secretsFor('acc_1', ['TOKEN']), { TOKEN: 'one' }, 'a new value under a known name waits for the cache');
    assert.equal(manager.reads(), 1);
    advance(5 * 60_000);
    assert.deepEqual(await store.secretsFor('acc_1'), { TOKEN: 'rotated' });
    assert.equal(manager.reads(), 2);
  });

  it('a named secret the cache lacks (a rotation\'s new or previous name) is read at once, but at most every 15 s, one read for all callers', async () => {
    const { manager, store, advance } = world();
    manager.set('acc_1', 'SIGNING', 'old');
    await store.secretsFor('acc_1', ['SIGNING']);
    advance(20_000);
    // A rotation under the same name: the new value, and the old one copied to SIGNING_PREVIOUS.
    manager.set('acc_1', 'SIGNING_PREVIOUS', 'old');
    manager.set('acc_1', 'SIGNING', 'new');
    const answers = await Promise.all(Array.from({ length: 5 }, () => store.secretsFor('acc_1', ['SIGNING', 'SIGNING_PREVIOUS'])));
    for (const answer of answers) assert.deepEqual(answer, { SIGNING: 'new', SIGNING_PREVIOUS: 'old' });
    assert.equal(manager.reads(), 2, 'one read for the five callers');
    // A name that stays missing (a webhook pointing at no secret): read again only every 15 s.
    await store.secretsFor('acc_1', ['NOWHERE']);
    advance(10_000);
    await store.secretsFor('acc_1', ['NOWHERE']);
    assert.equal(manager.reads(), 2);
    advance(6_000);
    await store.secretsFor('acc_1', ['NOWHERE']);
    assert.equal(manager.reads(), 3);
  });

  it('a value stored after the cache was read (a webhook\'s signingSecretSetAt later than the read) is read again, at most every 15 s; an earlier one is not', async () => {
    const { manager, store, advance } = world();
    manager.set('acc_1', 'SIGNING', 'leaked');
    manager.set('acc_1', 'SIGNING_PREVIOUS', 'older');
    const readAt = new Date(1_000_000);
    await store.secretsFor('acc_1', ['SIGNING']);
    advance(60_000);
    // Stored before the read: nothing to read again.
    assert.deepEqual(await store.secretsFor('acc_1', ['SIGNING'], new Date(readAt.getTime() - 1)), { SIGNING: 'leaked', SIGNING_PREVIOUS: 'older' });
    assert.equal(manager.reads(), 1);
    // A rotation under the same names after a leak: both values change, the names stay.
    manager.set('acc_1', 'SIGNING', 'new');
    manager.set('acc_1', 'SIGNING_PREVIOUS', 'leaked');
    const setAt = new Date(readAt.getTime() + 59_000);
    const answers = await Promise.all(Array.from({ length: 3 }, () => store.secretsFor('acc_1', ['SIGNING', 'SIGNING_PREVIOUS'], setAt)));
    for (const answer of answers) assert.deepEqual(answer, { SIGNING: 'new', SIGNING_PREVIOUS: 'leaked' });
    assert.equal(manager.reads(), 2, 'one read for the three callers');
    // That read started after the stamp: it stands.
    advance(20_000);
    await store.secretsFor('acc_1', ['SIGNING'], setAt);
    assert.equal(manager.reads(), 2);
    // A stamp ahead of this instance's clock (clocks apart) costs one read per 15 s, not one per event.
    const ahead = new Date(readAt.getTime() + 3_600_000);
    await store.secretsFor('acc_1', ['SIGNING'], ahead);
    assert.equal(manager.reads(), 3);
    advance(10_000);
    await store.secretsFor('acc_1', ['SIGNING'], ahead);
    assert.equal(manager.reads(), 3);
    advance(6_000);
    await store.secretsFor('acc_1', ['SIGNING'], ahead);
    assert.equal(manager.reads(), 4);
  });

  it('copySecret: the latest value read fresh and written under the other name; nothing when it is gone or already the value given', async () => {
    const { manager, store } = world();
    manager.set('acc_1', 'SIGNING', 'old');
    assert.equal(await store.copySecret('acc_1', 'SIGNING', 'SIGNING_PREVIOUS', 'new'), 'copied');
    assert.equal(manager.values.get(secretId('acc_1', 'SIGNING_PREVIOUS')), 'old');
    manager.set('acc_1', 'SIGNING', 'new');
    const writes = manager.calls.filter((call) => call === 'addSecretVersion').length;
    assert.equal(await store.copySecret('acc_1', 'SIGNING', 'SIGNING_PREVIOUS', 'new'), 'same', 'a request sent again');
    assert.equal(await store.copySecret('acc_1', 'MISSING', 'MISSING_PREVIOUS', 'new'), 'missing');
    assert.equal(manager.calls.filter((call) => call === 'addSecretVersion').length, writes, 'nothing written');
    assert.equal(manager.values.get(secretId('acc_1', 'SIGNING_PREVIOUS')), 'old');
  });
});
