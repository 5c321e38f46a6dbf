import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BuiltFunction } from '../../functions/dev/built-function.ts';
import { freePort } from '../../functions/dev/emulators.ts';
import { startLocalApi } from '../../functions/dev/local-api.ts';
import { BUILD_DIR } from '../../scripts/build.ts';
import { call } from '../support/api-client.ts';
import { API_KEYS, apiKeyPath, Firestore, webhookPath } from '../support/kit.ts';
import { expectExit, runHookshape, show, type Run } from '../support/hookshape-cli.ts';

// `hookshape keys create|list|revoke` run as a process (node functions/cli/hookshape.ts keys ...), as an
// operator runs it, against the Firestore emulator of this test run in a project of this file's own; the
// keys it makes are then presented to the bundle's real `api` function (build/functions, target api,
// under the functions framework) as `Authorization: Bearer <key>`. npm test builds first.

if (!process.env.FIRESTORE_EMULATOR_HOST) throw new Error('FIRESTORE_EMULATOR_HOST is not set: run the integration tests through npm test, which starts the emulators');

const A = 'acc_keys_a';
const B = 'acc_keys_b';
const OPERATOR = 'keys-test-operator';
const projectId = `cli-keys-${randomBytes(4).toString('hex')}`;
const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** The CLI against this file's project and emulators; `env` adds to or (undefined) removes from that. */
function hookshape(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return runHookshape(args, {
    USER: OPERATOR,
    FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST,
    GOOGLE_CLOUD_PROJECT: projectId,
    ...env,
  });
}
function jsonOf(run: Run): any {
  try {
    return JSON.parse(run.stdout);
  } catch {
    assert.fail(`stdout is not JSON\n${show(run)}`);
  }
}

let db: Firestore;
let api: BuiltFunction;
let work: string;

before(async () => {
  assert.ok(existsSync(join(BUILD_DIR, 'index.js')), 'build/functions/index.js is missing: run npm run build');
  db = new Firestore({ projectId });
  work = mkdtempSync(join(tmpdir(), 'hookshape-cli-keys-'));
  // One webhook in each account, so a 200 is the account's data and not just an empty page.
  await Promise.all([
    db.doc(webhookPath(A, 'wh_a')).set({ name: 'A hook', events: ['call.created'], url: 'https://a.example.com/hook' }),
    db.doc(webhookPath(B, 'wh_b')).set({ name: 'B hook', events: ['call.created'], url: 'https://b.example.com/hook' }),
  ]);
  api = await startLocalApi({ env: { GOOGLE_CLOUD_PROJECT: projectId, METADATA_SERVER_DETECTION: 'none' }, signingKeysFile: join(work, 'jwt-keys.json'), port: await freePort() });
});

after(async () => {
  await Promise.allSettled([api?.stop(), db?.terminate()]);
  rmSync(work, { recursive: true, force: true });
});

const webhooksOf = (account: string, key: string) => call(api.url, 'GET', `/v1/accounts/${account}/webhooks`, { token: key });
async function expectStatus(account: string, key: string, status: number, webhookId?: string) {
  const answer = await webhooksOf(account, key);
  assert.equal(answer.status, status, `GET /v1/accounts/${account}/webhooks → ${answer.status} ${answer.text}\n${api.output().slice(-4000)}`);
  if (webhookId) assert.deepEqual(answer.json.data.map((webhook: { id: string }) => webhook.id), [webhookId]);
}
const storedKeyCount = async () => (await db.collection(API_KEYS).get()).size;

describe('hookshape keys: help and usage errors', () => {
  it('hookshape --help lists keys; hookshape keys --help (and keys create --help) shows the subcommands and exit codes', async () => {
    const top = await hookshape(['--help']);
    expectExit(top, 0);
    assert.match(top.stdout, /^ {2}keys {8}platform API keys/m);
    for (const args of [['keys', '--help'], ['help', 'keys'], ['keys', 'create', '--help'], ['keys', 'revoke', '-h']]) {
      const run = await hookshape(args);
      expectExit(run, 0);
      assert.match(run.stdout, /^hookshape keys create\|list\|revoke/m, args.join(' '));
      for (const text of ['--account A', '--all-accounts', '--json', 'keys revoke <id>', 'Exit code: 0 ok, 1 no key with that id']) assert.ok(run.stdout.includes(text), `${args.join(' ')}: ${text}`);
      assert.equal(run.stderr, '');
    }
  });

  const usage: Array<{ args: string[]; message: RegExp }> = [
    { args: ['keys'], message: /give a subcommand: create, list or revoke/ },
    { args: ['keys', 'rotate'], message: /unknown keys subcommand 'rotate': create, list or revoke/ },
    { args: ['keys', '--name', 'x'], message: /unknown keys subcommand '--name': create, list or revoke comes first/ },
    { args: ['keys', 'create', '--name', 'both', '--account', A, '--all-accounts'], message: /give --account A or --all-accounts, not both[\s\S]*see hookshape keys create --help/ },
    { args: ['keys', 'create', '--name', 'neither'], message: /give --account A \(one account\) or --all-accounts/ },
    { args: ['keys', 'create', '--name', 'bad', '--account', 'acc/x'], message: /--account must be an account id as in the API's paths .*, got 'acc\/x'/ },
    { args: ['keys', 'create', '--name', 'bad', '--account', '_leading'], message: /--account must be an account id/ },
    { args: ['keys', 'create', '--name', 'bad', '--account', ''], message: /--account must be an account id/ },
    { args: ['keys', 'create', '--account', A], message: /give the key a name: --name/ },
    { args: ['keys', 'create', '--account', A, '--name', '   '], message: /--name must be 1-200 characters, got an empty one/ },
    { args: ['keys', 'create', '--account', A, '--name', 'x'.repeat(201)], message: /--name must be 1-200 characters, got 201/ },
    { args: ['keys', 'create', 'positional', '--account', A, '--name', 'x'], message: /keys create takes no arguments/ },
    { args: ['keys', 'create', '--account', A, '--name', 'x', '--bogus'], message: /Unknown option '--bogus'[\s\S]*see hookshape keys create --help/ },
    { args: ['keys', 'list', '--account', 'a b'], message: /--account must be an account id/ },
    { args: ['keys', 'list', '--all-accounts'], message: /Unknown option '--all-accounts'/ },
    { args: ['keys', 'revoke'], message: /give one key id/ },
    { args: ['keys', 'revoke', '0123456789abcdef0123', 'fedcba98765432100123'], message: /give one key id/ },
    { args: ['keys', 'revoke', 'not-an-id'], message: /a key id is 20 hex digits, got 'not-an-id'/ },
    { args: ['keys', 'revoke', '0123456789ABCDEF0123'], message: /a key id is 20 hex digits/ },
  ];
  it('usage errors exit 2 with what is wrong, and create nothing', async () => {
    const count = await storedKeyCount();
    const runs = await Promise.all(usage.map(({ args }) => hookshape(args)));
    usage.forEach(({ args, message }, index) => {
      const run = runs[index]!;
      expectExit(run, 2);
      assert.match(run.stderr, message, show(run));
      assert.equal(run.stdout, '', `${args.join(' ')}: nothing on stdout\n${show(run)}`);
    });
    assert.equal(await storedKeyCount(), count, 'no key was stored by a usage error');
  });

  it('with --json a usage error is { error, exitCode: 2 } on stdout', async () => {
    const run = await hookshape(['keys', 'create', '--name', 'x', '--account', A, '--all-accounts', '--json']);
    expectExit(run, 2);
    assert.deepEqual(jsonOf(run), { error: 'give --account A or --all-accounts, not both', exitCode: 2 });
  });

  it('revoke given the key itself instead of its id: a usage error that does not echo the key', async () => {
    const key = `hks_${randomBytes(32).toString('base64url')}`;
    const run = await hookshape(['keys', 'revoke', key]);
    expectExit(run, 2);
    assert.match(run.stderr, /this looks like the key itself; give its id/);
    assert.ok(!run.stderr.includes(key) && !run.stdout.includes(key), show(run));
  });

  it('the emulator cannot be reached: exit 3', async () => {
    const closed = `127.0.0.1:${await freePort()}`;
    for (const args of [['keys', 'list'], ['keys', 'create', '--name', 'x', '--all-accounts'], ['keys', 'revoke', '0123456789abcdef0123']]) {
      const run = await hookshape(args, { FIRESTORE_EMULATOR_HOST: closed });
      expectExit(run, 3);
      assert.match(run.stderr, new RegExp(`cannot reach the Firestore emulator at ${closed}`), show(run));
    }
  });
});

describe('hookshape keys: created by the CLI, used on the built api function, revoked', () => {
  const keys = { a: { key: '', id: '' }, all: { key: '', id: '' }, b: { key: '', id: '' } };
  let firstRevokedAt = '';
  const secrets = () => Object.values(keys).flatMap(({ key }) => [key, sha256(key)]);
  function expectNoSecret(run: Run) {
    for (const secret of secrets()) {
      assert.ok(secret.length > 20, 'the keys were created');
      assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), `a key or its sha256 is in the output\n${show(run)}`);
    }
  }

  it('keys create --account A --json: the key once on stdout, its id and scope; a note on stderr; only its hash stored', async () => {
    const run = await hookshape(['keys', 'create', '--name', 'A backend', '--account', A, '--json']);
    expectExit(run, 0);
    const created = jsonOf(run);
    assert.match(created.key, /^hks_[A-Za-z0-9_-]{43}$/);
    assert.equal(created.id, sha256(created.key).slice(0, 20), 'the id is the lookup prefix of the hash');
    assert.deepEqual(
      { ...created, key: undefined, createdAt: undefined },
      { key: undefined, id: created.id, display: `${created.key.slice(0, 10)}…`, name: 'A backend', accountId: A, allAccounts: false, createdAt: undefined, createdBy: OPERATOR, lastUsedAt: null, revokedAt: null },
    );
    assert.ok(Math.abs(Date.parse(created.createdAt) - Date.now()) < 60_000, created.createdAt);
    assert.match(run.stderr, /the key is shown this once: only its hash is stored, it cannot be shown again/);
    assert.ok(run.stderr.includes(`hookshape keys revoke ${created.id}`));
    assert.ok(!run.stderr.includes(created.key), 'the key is not on stderr');
    const stored = (await db.doc(apiKeyPath(created.id)).get()).data();
    assert.ok(stored, 'stored under apiKeys/<id>');
    assert.equal(stored.hash, sha256(created.key));
    assert.equal(stored.accountId, A);
    assert.ok(!JSON.stringify(stored).includes(created.key.slice(10)), 'the key itself is not stored');
    keys.a = { key: created.key, id: created.id };
  });

  it('keys create --all-accounts (people output): key, id and scope on stdout; createdBy hookshape-cli without $USER', async () => {
    const run = await hookshape(['keys', 'create', '--name', 'platform backend', '--all-accounts'], { USER: undefined });
    expectExit(run, 0);
    const field = (name: string) => new RegExp(`^${name} +(.+)$`, 'm').exec(run.stdout)?.[1];
    const key = field('key');
    const id = field('id');
    assert.ok(key && id, show(run));
    assert.match(key, /^hks_[A-Za-z0-9_-]{43}$/);
    assert.equal(id, sha256(key).slice(0, 20));
    assert.equal(field('name'), 'platform backend');
    assert.equal(field('scope'), 'all accounts');
    assert.match(field('created') ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ by hookshape-cli in the emulators/);
    assert.equal(run.stdout.split(key).length, 2, 'the key is printed once');
    assert.match(run.stderr, /cannot be shown again/);
    const stored = (await db.doc(apiKeyPath(id)).get()).data();
    assert.equal(stored?.accountId, null);
    assert.equal(stored?.createdBy, 'hookshape-cli');
    keys.all = { key, id };

    const b = jsonOf(await hookshape(['keys', 'create', '--name', 'B backend', '--account', B, '--json']));
    keys.b = { key: b.key, id: b.id };
  });

  it("the built api function: A's key works on A's routes, 404 on B's; the all-accounts key on both; an unknown key 401", async () => {
    await expectStatus(A, keys.a.key, 200, 'wh_a');
    await expectStatus(B, keys.a.key, 404);
    await expectStatus(B, keys.b.key, 200, 'wh_b');
    await expectStatus(A, keys.b.key, 404);
    await expectStatus(A, keys.all.key, 200, 'wh_a');
    await expectStatus(B, keys.all.key, 200, 'wh_b');
    await expectStatus(A, `hks_${randomBytes(32).toString('base64url')}`, 401);
    // One character off: the same lookup id is not enough, the whole hash must match.
    const last = keys.a.key.at(-1) === 'A' ? 'B' : 'A';
    await expectStatus(A, `${keys.a.key.slice(0, -1)}${last}`, 401);
  });

  it('keys list: id, prefix, name, scope, created, by, last used, revoked — never a key or its hash', async () => {
    const run = await hookshape(['keys', 'list']);
    expectExit(run, 0);
    expectNoSecret(run);
    const lines = run.stdout.split('\n');
    assert.match(lines[0]!, /^ID +KEY +NAME +SCOPE +CREATED +BY +LAST USED +REVOKED$/);
    const row = (id: string) => lines.find((line) => line.startsWith(id)) ?? assert.fail(`no row for ${id}\n${run.stdout}`);
    assert.match(row(keys.a.id), new RegExp(`^${keys.a.id} +${keys.a.key.slice(0, 10)}… +A backend +account ${A} +\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ +${OPERATOR} +`));
    assert.match(row(keys.all.id), new RegExp(`^${keys.all.id} +${keys.all.key.slice(0, 10)}… +platform backend +all accounts +\\S+ \\S+ +hookshape-cli +`));
    assert.match(row(keys.b.id), /B backend +account acc_keys_b/);
    assert.match(run.stdout, /3 keys\. The keys themselves are not stored/);
  });

  it('keys list --json: the records without hash; lastUsedAt is set after the API used a key', async () => {
    const deadline = Date.now() + 15_000;
    let listed: any;
    for (;;) {
      const run = await hookshape(['keys', 'list', '--json']);
      expectExit(run, 0);
      expectNoSecret(run);
      listed = jsonOf(run);
      if (listed.keys.find((key: { id: string }) => key.id === keys.a.id)?.lastUsedAt || Date.now() > deadline) break;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    assert.equal(listed.account, null);
    assert.deepEqual(listed.keys.map((key: { id: string }) => key.id).sort(), [keys.a.id, keys.all.id, keys.b.id].sort());
    for (const key of listed.keys) {
      assert.deepEqual(Object.keys(key).sort(), ['accountId', 'allAccounts', 'createdAt', 'createdBy', 'display', 'id', 'lastUsedAt', 'name', 'revokedAt']);
      assert.equal(key.revokedAt, null);
    }
    const a = listed.keys.find((key: { id: string }) => key.id === keys.a.id);
    assert.ok(a.lastUsedAt && Date.parse(a.lastUsedAt) >= Date.parse(a.createdAt), `lastUsedAt recorded by the api function: ${JSON.stringify(a)}`);
  });

  it('keys list --account A: only the keys scoped to A', async () => {
    const json = await hookshape(['keys', 'list', '--account', A, '--json']);
    expectExit(json, 0);
    expectNoSecret(json);
    const listed = jsonOf(json);
    assert.equal(listed.account, A);
    assert.deepEqual(listed.keys.map((key: { id: string }) => key.id), [keys.a.id]);
    const people = await hookshape(['keys', 'list', '--account', A]);
    expectExit(people, 0);
    assert.ok(people.stdout.includes(keys.a.id) && !people.stdout.includes(keys.all.id) && !people.stdout.includes(keys.b.id), show(people));
    const none = await hookshape(['keys', 'list', '--account', 'acc_keys_nobody']);
    expectExit(none, 0);
    assert.match(none.stdout, /^no API keys scoped to account acc_keys_nobody in the emulators/);
  });

  it("keys revoke <id>: the same key then gets 401 on A's routes; the other keys still work; the record is kept", async () => {
    const run = await hookshape(['keys', 'revoke', keys.a.id]);
    expectExit(run, 0);
    assert.match(run.stdout, new RegExp(`^revoked API key ${keys.a.id} \\(A backend, account ${A}\\) at \\S+ \\S+: requests with it are refused \\(401\\)`));
    expectNoSecret(run);
    await expectStatus(A, keys.a.key, 401);
    await expectStatus(B, keys.a.key, 401);
    await expectStatus(A, keys.all.key, 200, 'wh_a');
    await expectStatus(B, keys.b.key, 200, 'wh_b');
    const stored = (await db.doc(apiKeyPath(keys.a.id)).get()).data();
    assert.ok(stored?.revokedAt, 'kept, with revokedAt');
    const listed = jsonOf(await hookshape(['keys', 'list', '--json']));
    firstRevokedAt = listed.keys.find((key: { id: string }) => key.id === keys.a.id).revokedAt;
    assert.ok(firstRevokedAt && Math.abs(Date.parse(firstRevokedAt) - Date.now()) < 60_000, firstRevokedAt);
    assert.equal(listed.keys.filter((key: { revokedAt: string | null }) => key.revokedAt).length, 1);
    const people = await hookshape(['keys', 'list']);
    assert.match(people.stdout, /3 keys, 1 revoked/);
    assert.match(people.stdout.split('\n').find((line) => line.startsWith(keys.all.id)) ?? '', / -$/, 'the all-accounts key is not revoked');
  });

  it('keys revoke again: exit 0, a note that it was already revoked, nothing changed', async () => {
    const run = await hookshape(['keys', 'revoke', keys.a.id]);
    expectExit(run, 0);
    assert.match(run.stdout, new RegExp(`API key ${keys.a.id} \\(A backend, account ${A}\\) was already revoked at .*: nothing changed`));
    const json = await hookshape(['keys', 'revoke', keys.a.id, '--json']);
    expectExit(json, 0);
    const answer = jsonOf(json);
    assert.equal(answer.alreadyRevoked, true);
    assert.equal(answer.key.revokedAt, firstRevokedAt, 'the first revocation time is kept');
    assert.match(json.stderr, /already revoked/);
    expectNoSecret(json);
    await expectStatus(A, keys.a.key, 401);
  });

  it('keys revoke of an unknown id: exit 1 with a clear message (and { error, exitCode: 1 } with --json)', async () => {
    const unknown = sha256('no such key').slice(0, 20);
    const run = await hookshape(['keys', 'revoke', unknown]);
    expectExit(run, 1);
    assert.match(run.stderr, new RegExp(`no API key with id ${unknown} in the emulators \\(project ${projectId}\\)`));
    assert.equal(run.stdout, '');
    const json = await hookshape(['keys', 'revoke', unknown, '--json']);
    expectExit(json, 1);
    assert.equal(jsonOf(json).exitCode, 1);
    assert.equal(await storedKeyCount(), 3, 'nothing was created by revoking');
  });

  it('keys revoke of the all-accounts key --json: refused on every account from then on', async () => {
    const run = await hookshape(['keys', 'revoke', keys.all.id, '--json']);
    expectExit(run, 0);
    const answer = jsonOf(run);
    assert.equal(answer.revoked, true);
    assert.equal(answer.alreadyRevoked, false);
    assert.equal(answer.key.id, keys.all.id);
    assert.equal(answer.key.allAccounts, true);
    assert.ok(answer.key.revokedAt);
    assert.equal(answer.key.hash, undefined);
    expectNoSecret(run);
    await expectStatus(A, keys.all.key, 401);
    await expectStatus(B, keys.all.key, 401);
    await expectStatus(B, keys.b.key, 200, 'wh_b');
  });
});
