/**
 * The local stack's secrets file: read again whenever it changed (so editing it needs no restart),
 * and not re-read or re-parsed when it did not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { LocalFileSecretStore } from '../support/kit.ts';

describe('LocalFileSecretStore', () => {
  const withFile = async (test: (path: string) => Promise<void>) => {
    const dir = mkdtempSync(join(tmpdir(), 'hookshape-secrets-'));
    try {
      await test(join(dir, 'secrets.json'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('sees every change of the file: a replacement, an edit in place of the same size, its own writes', () =>
    withFile(async (path) => {
      const store = new LocalFileSecretStore(path);
      assert.deepEqual(await store.secretsFor('acc_1'), {});
      writeFileSync(path, JSON.stringify({ acc_1: { TOKEN: 'aaaa' } }));
      assert.deepEqual(await store.secretsFor('acc_1'), { TOKEN: 'aaaa' });
      // The same size, written in place; its modification time is set apart explicitly, as an editor's would be.
      writeFileSync(path, JSON.stringify({ acc_1: { TOKEN: 'bbbb' } }));
      utimesSync(path, new Date(), new Date(Date.now() + 2000));
      assert.deepEqual(await store.secretsFor('acc_1'), { TOKEN: 'bbbb' });
      await store.setSecret('acc_1', 'OTHER', 'x');
      assert.deepEqual(await store.secretsFor('acc_1'), { TOKEN: 'bbbb', OTHER: 'x' });
      rmSync(path);
      assert.deepEqual(await store.secretsFor('acc_1'), {});
    }));

  it('does not parse an unchanged file again', () =>
    withFile(async (path) => {
      writeFileSync(path, JSON.stringify({ acc_1: { TOKEN: 't' } }));
      const store = new LocalFileSecretStore(path);
      const parse = JSON.parse;
      let parses = 0;
      JSON.parse = (...args: Parameters<typeof JSON.parse>) => (parses++, parse(...args));
      try {
        for (let i = 0; i < 5; i++) assert.deepEqual(await store.secretsFor('acc_1'), { TOKEN: 't' });
      } finally {
        JSON.parse = parse;
      }
      assert.equal(parses, 1);
    }));

  it('names the file when it is not JSON', () =>
    withFile(async (path) => {
      writeFileSync(path, '{ not json');
      await assert.rejects(new LocalFileSecretStore(path).secretsFor('acc_1'), /LOCAL_SECRETS_FILE .*secrets\.json is not readable JSON/);
    }));
});
