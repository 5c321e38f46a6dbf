import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { CLAIM_LEASE_MS, deliveryPath, EVENT_TYPES, pendingDelivery, retryTaskId, webhookPath, type DeliveryStatus } from '../support/kit.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { expectExit, runHookshape, show, type Run } from '../support/hookshape-cli.ts';

// Every command run as a process (node functions/cli/hookshape.ts ...), as an operator runs it, against
// the emulators of this test run, the harness's functions (build/functions, each in its own process) and
// project, and a loopback receiver.
let h: Harness;
let receiver: Receiver;
let dir: string;
const scripts = new Map<string, number[]>();

before(async () => {
  [h, receiver] = await Promise.all([startHarness(), startReceiver()]);
  receiver.respond((request, res) => {
    res.statusCode = scripts.get(request.url.split('?')[0]!)?.shift() ?? 200;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ answer: `status ${res.statusCode}`, path: request.url }));
  });
  dir = mkdtempSync(join(tmpdir(), 'hookshape-cli-'));
});
after(async () => {
  rmSync(dir, { recursive: true, force: true });
  await Promise.all([h.close(), receiver.close()]);
});

/** The CLI against this file's project and emulators; `env` adds to or (undefined) removes from that. */
function hookshape(args: string[], env: Record<string, string | undefined> = {}): Promise<Run> {
  return runHookshape(args, {
    FIRESTORE_EMULATOR_HOST: process.env.FIRESTORE_EMULATOR_HOST,
    PUBSUB_EMULATOR_HOST: process.env.PUBSUB_EMULATOR_HOST,
    CLOUD_TASKS_EMULATOR_HOST: h.tasks.address,
    GOOGLE_CLOUD_PROJECT: h.projectId,
    RETRY_WORKER_URL: h.workerUrl,
    ...env,
  });
}

const ACCOUNT = 'acc_cli';
const BROKEN_YAML = `name: CRM calls
events: [call.created]
url: ${'$'}{RECEIVER}/crm/{{ data.call.id }}
headers:
  Authorization: Bearer {{ secrets.CRM_TOKEN }}
body: |
  {
    "call": "{{ data.call.id }}",
    "tags": {{ data.tags | jsn }}
  }
`;
const GOOD_BODY = '{"call": "{{ data.call.id }}", "customer": "{{ data.customer.name }}", "tags": {{ data.tags | json }}}';

async function webhook(id: string, statuses: number[] = [], fields: Record<string, unknown> = {}) {
  scripts.set(`/${id}`, [...statuses]);
  await h.setWebhook(ACCOUNT, id, { name: `Webhook ${id}`, events: ['call.created'], url: `${receiver.url}/${id}`, body: GOOD_BODY, ...fields });
}

describe('hookshape: help and usage errors', { concurrency: true }, () => {
  it('hookshape --help lists the commands (exit 0); no command is a usage error (exit 2)', async () => {
    const help = await hookshape(['--help']);
    expectExit(help, 0);
    for (const command of ['events', 'validate', 'preview', 'send-test', 'deliveries', 'status', 'replay', 'repair', 'keys']) assert.match(help.stdout, new RegExp(`^  ${command} `, 'm'));
    assert.match(help.stdout, /Exit codes: 0 ok, 1 what was checked failed, 2 usage error, 3 cannot reach/);
    expectExit(await hookshape([]), 2);
  });

  for (const command of ['events', 'validate', 'preview', 'send-test', 'deliveries', 'status', 'replay', 'repair', 'keys']) {
    it(`hookshape ${command} --help`, async () => {
      const run = await hookshape([command, '--help']);
      expectExit(run, 0);
      assert.match(run.stdout, new RegExp(`^hookshape ${command}`, 'm'));
      assert.match(run.stdout, /--json/);
      assert.equal(run.stderr, '');
    });
  }

  const usage: Array<{ args: string[]; message: RegExp }> = [
    { args: ['bogus'], message: /unknown command 'bogus'/ },
    { args: ['events', '--bogus'], message: /Unknown option '--bogus'[\s\S]*see hookshape events --help/ },
    { args: ['events', 'call.creatd'], message: /unknown event type 'call.creatd' \(did you mean call.created\?\)/ },
    { args: ['deliveries', 'just-an-account'], message: /expected <account>\/<webhook>, e.g. acc_42\/crm-calls, got 'just-an-account'/ },
    { args: ['deliveries', 'a/b', '--status', 'lost'], message: /--status must be one of pending, succeeded, retrying, failed, invalid, got 'lost'/ },
    { args: ['deliveries', 'a/b', '--since', 'yesterday'], message: /--since must be a duration like 30m, 1h, 7d or an ISO date/ },
    { args: ['replay', 'a/b'], message: /which deliveries\? give an event id, or --status failed/ },
    { args: ['replay', 'a/b', 'evt_1', '--status', 'failed'], message: /either an event id or --status, not both/ },
    { args: ['replay', 'a/b', '--status', 'skipped'], message: /--status must be one of failed, invalid, succeeded, pending, retrying/ },
    { args: ['validate', join('/nonexistent', 'hook.yaml')], message: /cannot read \/nonexistent\/hook.yaml: no such file/ },
    { args: ['preview', 'x.json', '--target', 'side'], message: /--target must be primary or backup/ },
    { args: ['send-test', 'a/b', '--timeout', 'soon'], message: /--timeout must be a whole number/ },
    { args: ['status'], message: /which account\? give --account A[\s\S]*see hookshape status --help/ },
    { args: ['status', 'acc_1'], message: /status takes no arguments, got 'acc_1' \(the account is --account A\)/ },
    { args: ['status', '--account', 'acc_1/hook'], message: /--account is an account id, not a path, got 'acc_1\/hook'/ },
    { args: ['status', '--account', 'acc_1', '--since', 'yesterday'], message: /--since must be a duration like 30m, 1h, 7d or an ISO date/ },
  ];
  for (const { args, message } of usage) {
    it(`usage error (exit 2): hookshape ${args.join(' ')}`, async () => {
      const run = await hookshape(args);
      expectExit(run, 2);
      assert.match(run.stderr, message);
      assert.equal(run.stdout, '');
    });
  }

  it('a usage error with --json also prints the error as JSON', async () => {
    const run = await hookshape(['deliveries', 'nope', '--json']);
    expectExit(run, 2);
    assert.deepEqual(JSON.parse(run.stdout), { error: "expected <account>/<webhook>, e.g. acc_42/crm-calls, got 'nope'", exitCode: 2 });
  });

  it('cannot reach the emulators: exit 3, saying which', async () => {
    const run = await hookshape(['deliveries', 'a/b'], { FIRESTORE_EMULATOR_HOST: '127.0.0.1:9' });
    expectExit(run, 3);
    assert.match(run.stderr, /cannot reach the Firestore emulator at 127.0.0.1:9/);
  });
});

describe('hookshape events', { concurrency: true }, () => {
  it('lists the catalogue', async () => {
    const run = await hookshape(['events']);
    expectExit(run, 0);
    assert.match(run.stdout, /^EVENT +PLATFORM NAME +WHEN$/m);
    for (const type of EVENT_TYPES) assert.match(run.stdout, new RegExp(`^${type.replace('.', '\\.')} `, 'm'));
    const json = JSON.parse((await hookshape(['events', '--json'])).stdout);
    assert.equal(json.length, EVENT_TYPES.length);
    assert.deepEqual(Object.keys(json[0]), ['type', 'platformName', 'description']);
  });

  it('events call.created: its variables and sample', async () => {
    const run = await hookshape(['events', 'call.created']);
    expectExit(run, 0);
    assert.match(run.stdout, /^call\.created — Llamada creada$/m);
    assert.match(run.stdout, /^\{\{ data\.call\.id \}\} +string +Id of the call/m);
    assert.match(run.stdout, /^\{\{ event\.id \}\} +string/m);
    assert.match(run.stdout, /"id": "evt_sample_call_created"/);
    const json = JSON.parse((await hookshape(['events', 'call.created', '--json'])).stdout);
    assert.equal(json.sample.type, 'call.created');
    assert.ok(json.variables.some((variable: { path: string }) => variable.path === 'data.customer.name'));
  });
});

describe('hookshape validate and preview (files and stored documents)', { concurrency: true }, () => {
  it('validate: a broken template is reported with field, line and column (exit 1); fixed, it is valid (exit 0)', async () => {
    const file = join(dir, 'crm.yaml');
    writeFileSync(file, BROKEN_YAML.replace('${RECEIVER}', 'https://crm.example.com'));
    const broken = await hookshape(['validate', file]);
    expectExit(broken, 1);
    assert.match(broken.stdout, /crm\.yaml: 1 error\(s\)\n  ✗ body: template error at line 3, column 11: undefined filter 'jsn'/);
    const json = JSON.parse((await hookshape(['validate', file, '--json'])).stdout);
    assert.equal(json.ok, false);
    assert.deepEqual({ field: json.errors[0].field, line: json.errors[0].line, column: json.errors[0].column }, { field: 'body', line: 3, column: 11 });

    const fixed = join(dir, 'crm-fixed.json');
    writeFileSync(fixed, JSON.stringify({ name: 'CRM', events: ['call.created'], url: 'https://crm.example.com/calls', heders: {}, body: GOOD_BODY }));
    const ok = await hookshape(['validate', fixed]);
    expectExit(ok, 0);
    assert.match(ok.stdout, /✓ .*crm-fixed\.json: valid \(checked with the samples of call\.created\)/);
    assert.match(ok.stdout, /! heders: is not a webhook field and is ignored \(did you mean headers\?\)/);
  });

  // The delivery rules (filter, retry, rateLimit, auth): each mistake named by its path, as the
  // validator writes it into the document and the API answers it.
  const RULE_MISTAKES: Array<{ name: string; fields: Record<string, unknown>; errors: RegExp[] }> = [
    { name: 'unknown filter operator', fields: { filter: { 'data.call.durationSeconds': { $gtt: 60 } } }, errors: [/✗ filter\.data\.call\.durationSeconds\.\$gtt: \$gtt is not an operator \(did you mean \$gt\?\)/] },
    { name: 'filter path not in the event', fields: { filter: { 'data.call.nope': { $eq: 1 } } }, errors: [/✗ filter\.data\.call\.nope\.\$eq: data\.call\.nope is not a variable of call\.created/] },
    { name: 'filter regex that does not compile', fields: { filter: { 'data.customer.name': { $regex: '(a' } } }, errors: [/✗ filter\.data\.customer\.name\.\$regex: is not a regular expression hookshape can run: missing closing \)/] },
    { name: 'filter regex with a backreference', fields: { filter: { 'data.customer.name': { $regex: '(a+)\\1' } } }, errors: [/✗ filter\.data\.customer\.name\.\$regex: is not a regular expression hookshape can run/] },
    { name: 'too many retry attempts', fields: { retry: { attempts: 11 } }, errors: [/✗ retry\.attempts: must be at most 10/] },
    { name: 'unknown retry schedule', fields: { retry: { schedule: 'fibonacci' } }, errors: [/✗ retry\.schedule: must be one of incremental, exponential, explicit/] },
    { name: 'rate limit of zero', fields: { rateLimit: { perSecond: 0 } }, errors: [/✗ rateLimit\.perSecond: must be 1 or more/] },
    { name: 'basic auth without its password secret', fields: { auth: { type: 'basic', username: 'u' } }, errors: [/✗ auth\.passwordSecretName: must be the name of a secret/] },
    { name: 'bearer token written as a value', fields: { auth: { type: 'bearer', token: 'abc' } }, errors: [/✗ auth\.tokenSecretName: must be the name of a secret/, /✗ auth: token: not a field of auth type bearer/] },
    { name: 'oauth2 token URL that is not one', fields: { auth: { type: 'oauth2', tokenUrl: 'not a url', clientId: 'c', clientSecretName: 'S' } }, errors: [/✗ auth\.tokenUrl: must be an absolute https URL/] },
  ];
  for (const [index, mistake] of RULE_MISTAKES.entries()) {
    it(`validate: a delivery rule mistake is named by its path (${mistake.name})`, async () => {
      const file = join(dir, `rule-${index}.json`);
      writeFileSync(file, JSON.stringify({ name: 'CRM', events: ['call.created'], url: 'https://crm.example.com/calls', body: GOOD_BODY, ...mistake.fields }));
      const run = await hookshape(['validate', file]);
      expectExit(run, 1);
      assert.match(run.stdout, new RegExp(`rule-${index}\\.json: ${mistake.errors.length} error\\(s\\)`), show(run));
      for (const error of mistake.errors) assert.match(run.stdout, error, show(run));
    });
  }

  it('validate: a file that is not YAML is a failed check (exit 1) with the reason', async () => {
    const file = join(dir, 'bad.yaml');
    writeFileSync(file, 'name: [unclosed\n');
    const run = await hookshape(['validate', file]);
    expectExit(run, 1);
    assert.match(run.stderr, /bad\.yaml is not valid YAML/);
  });

  it('validate <account>/<webhook>: the stored document, with its state', async () => {
    await webhook('stored-broken', [], { body: '{"x": {{ data.x | nope }}}' });
    assert.equal(await h.validate(ACCOUNT, 'stored-broken'), 204, h.output()); // validateWebhook, as Eventarc calls it
    const run = await hookshape(['validate', `${ACCOUNT}/stored-broken`]);
    expectExit(run, 1);
    assert.match(run.stdout, /validation: FAILED \(checked .*\): deliveries are skipped until it is fixed/);
    assert.match(run.stdout, /✗ body: template error at line 1, column 7: undefined filter 'nope'/);
  });

  it('preview a file: the exact request, secrets masked, nothing sent', async () => {
    const file = join(dir, 'preview.yaml');
    writeFileSync(file, BROKEN_YAML.replace('${RECEIVER}', receiver.url).replace('jsn', 'json'));
    const before = receiver.requests.length;
    const run = await hookshape(['preview', file, '--event', 'call.created']);
    expectExit(run, 0);
    assert.equal(
      run.stdout,
      [
        `POST ${receiver.url}/crm/call_8GkT2pXq`,
        'Authorization: Bearer [secret:CRM_TOKEN]',
        'Content-Type: application/json; charset=utf-8',
        'User-Agent: hookshape/0.1.0 (+webhooks)',
        'X-Powered-By: hookshape/0.1.0',
        'X-Requested-With: hookshape',
        '',
        '{\n  "call": "call_8GkT2pXq",\n  "tags": ["venta","hogar-plus"]\n}\n',
      ].join('\n') + '\n',
    );
    assert.match(run.stderr, /nothing sent/);
    assert.equal(receiver.requests.length, before, 'nothing was sent');

    const data = join(dir, 'data.json');
    writeFileSync(data, JSON.stringify({ call: { id: 'call_custom' }, tags: ['x'] }));
    const json = JSON.parse((await hookshape(['preview', file, '--data', data, '--json'])).stdout);
    assert.equal(json.url, `${receiver.url}/crm/call_custom`);
    assert.equal(json.headers.Authorization, 'Bearer [secret:CRM_TOKEN]');
    assert.deepEqual(JSON.parse(json.body), { call: 'call_custom', tags: ['x'] });

    const broken = join(dir, 'preview-broken.yaml');
    writeFileSync(broken, BROKEN_YAML.replace('${RECEIVER}', receiver.url));
    const failed = await hookshape(['preview', broken]);
    expectExit(failed, 1);
    assert.match(failed.stderr, /undefined filter 'jsn'/);
  });

  it("preview <account>/<webhook>: the stored webhook with the local secrets file's values, masked", async () => {
    await webhook('with-secret', [], { headers: { Authorization: 'Bearer {{ secrets.TOKEN }}', 'X-Sig': '{{ secrets.TOKEN | base64_encode }}' } });
    const secrets = join(dir, 'secrets.json');
    writeFileSync(secrets, JSON.stringify({ [ACCOUNT]: { TOKEN: 's3cr3t-value-42' } }));
    const run = await hookshape(['preview', `${ACCOUNT}/with-secret`], { LOCAL_SECRETS_FILE: secrets });
    expectExit(run, 0);
    assert.match(run.stdout, /^Authorization: Bearer \[secret:TOKEN\]$/m);
    assert.match(run.stdout, /^X-Sig: \[secret:TOKEN\]$/m);
    assert.doesNotMatch(run.stdout + run.stderr, /s3cr3t/);
    assert.match(run.stderr, /the local secrets file for TOKEN/);
  });
});

describe('hookshape send-test, deliveries and replay', () => {
  let failedEvent = '';

  it('send-test: publishes the sample, waits, prints the outcome (exit 0 when delivered)', async () => {
    await webhook('ok-hook');
    const run = await hookshape(['send-test', `${ACCOUNT}/ok-hook`]);
    expectExit(run, 0);
    assert.match(run.stdout, /^delivery accounts\/acc_cli\/webhooks\/ok-hook\/deliveries\/evt_test_\w+: succeeded$/m);
    assert.match(run.stdout, /^  #1 primary HTTP 200 .*POST http:\/\/127\.0\.0\.1:\d+\/ok-hook$/m);
    assert.match(run.stdout, /response: \{"answer":"status 200","path":"\/ok-hook"\}/);
    assert.match(run.stderr, /published call\.created evt_test_\w+ for acc_cli to hookshape-events/);
    const request = receiver.requests.find((r) => r.url === '/ok-hook');
    assert.deepEqual(JSON.parse(request!.body), { call: 'call_8GkT2pXq', customer: 'Maria da Conceição', tags: ['venta', 'hogar-plus'] });
  });

  it('send-test: a 404 is a failed delivery (exit 1), with the response; --json for scripts', async () => {
    await webhook('not-found', [404, 404]);
    const run = await hookshape(['send-test', `${ACCOUNT}/not-found`, '--event', 'call.created']);
    expectExit(run, 1);
    assert.match(run.stdout, /: failed\n  last error: HTTP 404/);
    assert.match(run.stdout, /#1 primary HTTP 404/);
    assert.match(run.stdout, /response: \{"answer":"status 404"/);
    failedEvent = /deliveries\/(evt_test_\w+): failed/.exec(run.stdout)![1]!;

    const json = await hookshape(['send-test', `${ACCOUNT}/not-found`, '--json']);
    expectExit(json, 1);
    const parsed = JSON.parse(json.stdout);
    assert.equal(parsed.delivery.status, 'failed');
    assert.equal(parsed.delivery.attempts[0].response.status, 404);
    assert.equal(parsed.timedOut, false);
  });

  it('send-test refuses a disabled webhook (exit 1) and an event it does not subscribe to (exit 2)', async () => {
    await webhook('off', [], { enabled: false });
    const disabled = await hookshape(['send-test', `${ACCOUNT}/off`]);
    expectExit(disabled, 1);
    assert.match(disabled.stderr, /is disabled \(enabled: false\)/);
    const other = await hookshape(['send-test', `${ACCOUNT}/ok-hook`, '--event', 'queue.created']);
    expectExit(other, 2);
    assert.match(other.stderr, /does not subscribe to queue\.created \(its events: call\.created\)/);
    const missing = await hookshape(['send-test', `${ACCOUNT}/no-such-hook`]);
    expectExit(missing, 1);
    assert.match(missing.stderr, /no webhook at accounts\/acc_cli\/webhooks\/no-such-hook/);
  });

  it('deliveries: the state and a table of the log, newest first; --status, --since, --json', async () => {
    // The failure count is written just after each delivery record: wait for the second.
    for (let waited = 0; waited < 5000; waited += 50) {
      if ((await h.db.doc(webhookPath(ACCOUNT, 'not-found')).get()).get('health.consecutiveFailures') === 2) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const run = await hookshape(['deliveries', `${ACCOUNT}/not-found`]);
    expectExit(run, 0);
    assert.match(run.stdout, /^webhook accounts\/acc_cli\/webhooks\/not-found "Webhook not-found" on call\.created\n  enabled$/m);
    assert.match(run.stdout, /^CREATED +EVENT +TYPE +STATUS +ATTEMPTS +NEXT ATTEMPT +LAST RESULT$/m);
    const rows = run.stdout.split('\n').filter((line) => /evt_test_/.test(line));
    assert.equal(rows.length, 2);
    assert.match(rows[1]!, new RegExp(`^\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\dZ +${failedEvent} +call\\.created +failed +1 +HTTP 404$`));
    assert.match(run.stdout, /consecutive failed deliveries: 2/);

    await webhook('mixed', [200, 404]);
    const ok = eventOf('call.created', ACCOUNT, { n: 1 });
    await h.publish(ok);
    await h.waitForDelivery(ACCOUNT, 'mixed', ok.id);
    const bad = eventOf('call.created', ACCOUNT, { n: 2 });
    await h.publish(bad);
    await h.waitForDelivery(ACCOUNT, 'mixed', bad.id);
    const failedOnly = await hookshape(['deliveries', `${ACCOUNT}/mixed`, '--status', 'failed', '--since', '1h']);
    expectExit(failedOnly, 0);
    assert.match(failedOnly.stdout, new RegExp(bad.id));
    assert.doesNotMatch(failedOnly.stdout, new RegExp(ok.id));
    assert.match(failedOnly.stdout, /1 delivery \(status failed, since .*\), newest first/);
    const json = JSON.parse((await hookshape(['deliveries', `${ACCOUNT}/mixed`, '--json'])).stdout);
    assert.deepEqual(json.deliveries.map((record: { eventId: string }) => record.eventId), [bad.id, ok.id]);
    assert.equal(json.webhook.enabled, true);
    const none = await hookshape(['deliveries', `${ACCOUNT}/mixed`, '--status', 'invalid']);
    assert.match(none.stdout, /no deliveries \(status invalid\)/);
  });

  it('deliveries shows a disabled webhook with the reason, and a failed validation', async () => {
    await webhook('auto-off', [], { body: '{"x": {{ data.x | nope }}}' });
    assert.equal(await h.validate(ACCOUNT, 'auto-off'), 204, h.output()); // validateWebhook, as Eventarc calls it
    await h.db.doc(webhookPath(ACCOUNT, 'auto-off')).update({ enabled: false, disabled: { reason: 'disabled automatically after 15 consecutive failed deliveries; the last (event evt_9): HTTP 404', at: new Date('2026-03-01T10:00:00Z'), consecutiveFailures: 15 } });
    const run = await hookshape(['deliveries', `${ACCOUNT}/auto-off`]);
    expectExit(run, 0);
    assert.match(run.stdout, /^  DISABLED \(enabled: false\) since 2026-03-01 10:00:00Z: disabled automatically after 15 consecutive failed deliveries; the last \(event evt_9\): HTTP 404$/m);
    assert.match(run.stdout, /validation: FAILED/);
    assert.match(run.stdout, /no deliveries/);
    const json = JSON.parse((await hookshape(['deliveries', `${ACCOUNT}/auto-off`, '--json'])).stdout);
    assert.equal(json.webhook.enabled, false);
    assert.match(json.webhook.disabled.reason, /after 15 consecutive/);
    assert.equal(json.webhook.validation.state, 'failed');
    const preview = await hookshape(['preview', `${ACCOUNT}/auto-off`]);
    expectExit(preview, 1);
    assert.match(preview.stderr, /note: accounts\/acc_cli\/webhooks\/auto-off is DISABLED \(enabled: false\): disabled automatically after 15/);
    assert.match(preview.stderr, /undefined filter 'nope'/);
    const replay = await hookshape(['replay', `${ACCOUNT}/auto-off`, '--status', 'failed']);
    expectExit(replay, 1);
    assert.match(replay.stderr, /is disabled \(enabled: false\): the retry worker would end every replay as failed/);
  });

  it('replay <eventId>: a new attempt series sent by the retry worker, recorded as a replay', async () => {
    assert.ok(failedEvent, 'the send-test above recorded a failed delivery');
    scripts.set('/not-found', [200]); // the receiver is fixed
    const run = await hookshape(['replay', `${ACCOUNT}/not-found`, failedEvent, '--wait', '--timeout', '30']);
    expectExit(run, 0);
    assert.match(run.stdout, /replayed 1 of 1 delivery of accounts\/acc_cli\/webhooks\/not-found: the retry worker sends them now/);
    assert.match(run.stderr, new RegExp(`\\[1/1\\] ${failedEvent}: failed → retrying \\(attempt #2, replay 1\\)`));
    const record = await h.delivery(ACCOUNT, 'not-found', failedEvent);
    assert.equal(record?.status, 'succeeded');
    assert.deepEqual(record?.attempts.map((attempt) => [attempt.number, attempt.target, attempt.response?.status]), [[1, 'primary', 404], [2, 'primary', 200]]);
    assert.equal(record?.replays?.length, 1);
    assert.equal(record?.replays?.[0]?.previousStatus, 'failed');
    assert.match(run.stdout, /replayed at .* \(was failed\)/);
  });

  it('replay --status failed --since: --dry-run changes nothing; then all of them, with progress', async () => {
    await webhook('batch', [404, 404]);
    const events = [eventOf('call.created', ACCOUNT, { n: 1 }), eventOf('call.created', ACCOUNT, { n: 2 }), eventOf('call.created', ACCOUNT, { n: 3 })];
    for (const event of events) {
      await h.publish(event);
      await h.waitForDelivery(ACCOUNT, 'batch', event.id);
    }
    const failedIds = [];
    for (const event of events) if ((await h.delivery(ACCOUNT, 'batch', event.id))?.status === 'failed') failedIds.push(event.id);
    assert.equal(failedIds.length, 2, 'two failed with 404, the third succeeded');

    const dry = await hookshape(['replay', `${ACCOUNT}/batch`, '--status', 'failed', '--since', '1h', '--dry-run']);
    expectExit(dry, 0);
    for (const id of failedIds) assert.match(dry.stdout, new RegExp(id));
    assert.match(dry.stdout, /dry run: would replay 2 deliveries; nothing changed/);
    for (const id of failedIds) assert.equal((await h.delivery(ACCOUNT, 'batch', id))?.status, 'failed');
    const dryJson = JSON.parse((await hookshape(['replay', `${ACCOUNT}/batch`, '--status', 'failed', '--dry-run', '--json'])).stdout);
    assert.equal(dryJson.deliveries.length, 2);

    const run = await hookshape(['replay', `${ACCOUNT}/batch`, '--status', 'failed', '--since', '1h', '--json']);
    expectExit(run, 0);
    const result = JSON.parse(run.stdout);
    assert.deepEqual(result.replayed.map((item: { eventId: string }) => item.eventId).sort(), [...failedIds].sort());
    assert.deepEqual(result.skipped, []);
    assert.match(run.stderr, /\[1\/2\] evt_\w+: failed → retrying/);
    assert.match(run.stderr, /\[2\/2\] evt_\w+: failed → retrying/);
    for (const id of failedIds) {
      const record = await h.waitForDelivery(ACCOUNT, 'batch', id, (value) => value.status === 'succeeded');
      assert.equal(record.attempts.length, 2);
    }
    const again = await hookshape(['replay', `${ACCOUNT}/batch`, '--status', 'failed']);
    expectExit(again, 0);
    assert.match(again.stdout, /nothing to replay/);
  });

  it('replay of a delivery that is retrying is refused (exit 1); an invalid one (no attempt yet) is sent after the fix', async () => {
    // Retried 30 s later: still retrying, and not in flight, whenever the CLI reads it on a loaded machine.
    await webhook('slow', [503, 503, 503, 503], { retry: { delaysSeconds: [30] } });
    const retrying = eventOf('call.created', ACCOUNT, {});
    await h.publish(retrying);
    await h.waitForDelivery(ACCOUNT, 'slow', retrying.id, (record) => record.status === 'retrying');
    const refused = await hookshape(['replay', `${ACCOUNT}/slow`, retrying.id]);
    expectExit(refused, 1);
    assert.match(refused.stderr, /is retrying \(its next attempt is due at [^)]+\): it is already being delivered; nothing to replay/);

    // The sample renders, this event's data does not: invalid, nothing sent, no attempt recorded.
    await webhook('fragile', [], { body: '{"n": {{ data.n }}}' });
    const invalid = eventOf('call.created', ACCOUNT, { n: 'many' });
    await h.publish(invalid);
    assert.equal((await h.waitForDelivery(ACCOUNT, 'fragile', invalid.id)).status, 'invalid');
    await h.db.doc(webhookPath(ACCOUNT, 'fragile')).update({ body: '{"n": "{{ data.n }}"}' });
    const run = await hookshape(['replay', `${ACCOUNT}/fragile`, invalid.id, '--wait']);
    expectExit(run, 0);
    const record = await h.delivery(ACCOUNT, 'fragile', invalid.id);
    assert.equal(record?.status, 'succeeded');
    assert.deepEqual(record?.attempts.map((attempt) => attempt.number), [1]);
    assert.equal(record?.replays?.[0]?.previousStatus, 'invalid');
  });

  it('replay after a series the retry worker stopped: the replay has task names of its own, never an old tombstone', async () => {
    // Attempt 2 is due 4 s after attempt 1: time enough to disable the webhook first on a loaded machine.
    await webhook('paused', [503, 200], { retry: { delaysSeconds: [4] } });
    const event = eventOf('call.created', ACCOUNT, {});
    await h.publish(event);
    await h.waitForDelivery(ACCOUNT, 'paused', event.id, (record) => record.status === 'retrying');
    // Disabled while attempt 2 waits: its task runs, finds the webhook disabled and ends the delivery.
    await h.db.doc(webhookPath(ACCOUNT, 'paused')).update({ enabled: false });
    const stopped = await h.waitForDelivery(ACCOUNT, 'paused', event.id);
    assert.equal(stopped.status, 'failed');
    assert.match(String(stopped.lastError), /was disabled before attempt 2/);
    const key = { accountId: ACCOUNT, webhookId: 'paused', eventId: event.id };
    const taskNames = () => [...h.tasks.state.tasks.keys(), ...h.tasks.state.tombstones.keys()];
    assert.ok(taskNames().some((name) => name.endsWith(retryTaskId({ ...key, attempt: 2 }))), 'the first series used the name of attempt 2');

    await h.db.doc(webhookPath(ACCOUNT, 'paused')).update({ enabled: true });
    const run = await hookshape(['replay', `${ACCOUNT}/paused`, event.id, '--wait', '--timeout', '30']);
    expectExit(run, 0);
    const record = await h.delivery(ACCOUNT, 'paused', event.id);
    assert.deepEqual(record?.attempts.map((attempt) => [attempt.number, attempt.response?.status]), [[1, 503], [2, 200]]);
    assert.ok(taskNames().some((name) => name.endsWith(retryTaskId({ ...key, attempt: 2, series: 1 }))), 'the replay enqueued attempt 2 under its own name');
  });
});

describe('hookshape repair and replay of deliveries left without an owner', () => {
  // What an instance that died mid-send leaves: a claim with attempt 1 in flight, older than the lease.
  async function orphan(id: string) {
    await webhook(id, [200]);
    const event = eventOf('call.created', ACCOUNT, {});
    const crashedAt = new Date(Date.now() - CLAIM_LEASE_MS - 5_000);
    await h.db.doc(deliveryPath(ACCOUNT, id, event.id)).create(pendingDelivery(event, id, `Webhook ${id}`, crashedAt, 30));
    return event;
  }

  it('repair --dry-run lists it and changes nothing; repair moves it on, with a progress line and a summary; the retry worker delivers it', async () => {
    const event = await orphan('orphaned');
    const path = deliveryPath(ACCOUNT, 'orphaned', event.id);
    const dry = await hookshape(['repair', '--dry-run']);
    expectExit(dry, 0);
    assert.match(dry.stderr, new RegExp(`\\[\\d+/\\d+\\] ${path}: would repair \\(attempt 1 has been in flight since `));
    assert.match(dry.stdout, /dry run: \d+ examined, 1 would be repaired; nothing changed/);
    assert.equal((await h.delivery(ACCOUNT, 'orphaned', event.id))?.status, 'pending');

    const run = await hookshape(['repair']);
    expectExit(run, 0);
    assert.match(run.stderr, new RegExp(`${path}: pending → retrying`));
    assert.match(run.stdout, /\d+ examined, 1 without a live owner, 1 repaired, 0 error\(s\)/);
    const record = await h.waitForDelivery(ACCOUNT, 'orphaned', event.id);
    assert.equal(record.status, 'succeeded');
    assert.deepEqual(record.attempts.map((attempt) => [attempt.number, attempt.outcome]), [[1, 'unknown'], [2, 'succeeded']]);
    assert.equal(receiver.requests.filter((request) => request.url === '/orphaned').length, 1);

    const again = JSON.parse((await hookshape(['repair', '--json'])).stdout) as { stale: number; repaired: number; items: Array<{ path: string }> };
    assert.equal(again.items.some((item) => item.path === path), false, 'a finished delivery is not a candidate');
    assert.equal(again.repaired, 0);
  });

  it('replay accepts a delivery stale by the same rule, and refuses one whose claim is live', async () => {
    const event = await orphan('stale-replay');
    const run = await hookshape(['replay', `${ACCOUNT}/stale-replay`, event.id, '--wait', '--timeout', '30']);
    expectExit(run, 0);
    assert.match(run.stderr, new RegExp(`${event.id}: pending → retrying \\(attempt #2, replay 1\\)`));
    const record = await h.delivery(ACCOUNT, 'stale-replay', event.id);
    assert.equal(record?.status, 'succeeded');
    assert.deepEqual(record?.attempts.map((attempt) => [attempt.number, attempt.outcome]), [[1, 'unknown'], [2, 'succeeded']]);
    assert.equal(record?.replays?.[0]?.previousStatus, 'pending');

    const live = eventOf('call.created', ACCOUNT, {});
    await h.db.doc(deliveryPath(ACCOUNT, 'stale-replay', live.id)).create(pendingDelivery(live, 'stale-replay', 'Webhook stale-replay', new Date(), 30));
    const refused = await hookshape(['replay', `${ACCOUNT}/stale-replay`, live.id]);
    expectExit(refused, 1);
    assert.match(refused.stderr, /is pending \(attempt 1 is in flight \(since [^)]+\)\): it is already being delivered; nothing to replay/);
  });
});

describe('hookshape status', () => {
  // Records planted as the functions write them (pendingDelivery, then the status), of several statuses
  // and ages, in two webhooks of one account and in another account. Pending and retrying ones have a
  // live owner (an attempt in flight since now, a retry due in 10 min), so the repair sweep leaves them.
  const STATUS_ACCOUNT = 'acc_status';
  const MINUTE = 60_000;
  async function plant(accountId: string, webhookId: string, status: DeliveryStatus, ageMs: number) {
    const event = eventOf('call.created', accountId, {});
    const now = new Date();
    const record = pendingDelivery(event, webhookId, `Webhook ${webhookId}`, new Date(now.getTime() - ageMs), 30);
    const unfinished = status === 'pending' || status === 'retrying';
    await h.db.doc(deliveryPath(accountId, webhookId, event.id)).create({
      ...record,
      status,
      updatedAt: unfinished ? now : record.createdAt,
      inFlight: status === 'pending' ? { ...record.inFlight!, since: now } : null,
      nextAttemptAt: status === 'retrying' ? new Date(now.getTime() + 10 * MINUTE) : null,
      lastError: status === 'failed' ? 'HTTP 500' : null,
    });
    return deliveryPath(accountId, webhookId, event.id);
  }
  let oldestPending = '';
  let oldestRetrying = '';

  before(async () => {
    [oldestPending, oldestRetrying] = await Promise.all([
      plant(STATUS_ACCOUNT, 'hook-b', 'pending', 8 * 60 * MINUTE),
      plant(STATUS_ACCOUNT, 'hook-a', 'retrying', 2 * 60 * MINUTE),
      ...[10, 11, 12].map((m) => plant(STATUS_ACCOUNT, 'hook-a', 'succeeded', m * MINUTE)),
      plant(STATUS_ACCOUNT, 'hook-b', 'succeeded', 1 * MINUTE),
      ...[20, 21].map((m) => plant(STATUS_ACCOUNT, 'hook-a', 'failed', m * MINUTE)),
      plant(STATUS_ACCOUNT, 'hook-a', 'failed', 3 * 60 * MINUTE),
      plant(STATUS_ACCOUNT, 'hook-a', 'invalid', 5 * MINUTE),
      plant(STATUS_ACCOUNT, 'hook-a', 'pending', 30 * MINUTE),
      plant(STATUS_ACCOUNT, 'hook-a', 'pending', 5 * 60 * MINUTE),
      plant(STATUS_ACCOUNT, 'hook-a', 'retrying', 15 * MINUTE),
      plant(STATUS_ACCOUNT, 'hook-b', 'retrying', 90 * MINUTE),
      // Another account's records are neither counted nor shown, even older ones.
      plant('acc_status_other', 'hook-a', 'failed', 1 * MINUTE),
      plant('acc_status_other', 'hook-a', 'pending', 10 * 60 * MINUTE),
      plant('acc_status_other', 'hook-a', 'retrying', 10 * 60 * MINUTE),
    ]) as [string, string, ...string[]];
  });

  it('counts the last hour by status across the webhooks and shows the oldest pending and retrying record', async () => {
    const run = await hookshape(['status', '--account', STATUS_ACCOUNT]);
    expectExit(run, 0);
    assert.match(run.stdout, /^account acc_status: deliveries created in the last 1h \(since \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ\), by status now$/m);
    assert.match(run.stdout, /^STATUS +DELIVERIES$/m);
    const counts = Object.fromEntries([...run.stdout.matchAll(/^(pending|succeeded|retrying|failed|invalid|total) +(\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
    assert.deepEqual(counts, { pending: 1, succeeded: 4, retrying: 1, failed: 2, invalid: 1, total: 9 }, show(run));
    assert.match(run.stdout, new RegExp(`^oldest pending: +${oldestPending}\n +created \\S+ \\S+ \\(8h 0\\dm ago\\), 0 attempt\\(s\\); attempt 1 is in flight`, 'm'));
    assert.match(run.stdout, new RegExp(`^oldest retrying: +${oldestRetrying}\n +created \\S+ \\S+ \\(2h 0\\dm ago\\), 0 attempt\\(s\\); its next attempt is due at `, 'm'));
    assert.doesNotMatch(run.stdout, /no live owner/);
    assert.equal(run.stderr, '');
  });

  it('--since widens the window (the oldest records are shown whatever it is); --json for scripts', async () => {
    const run = await hookshape(['status', '--account', STATUS_ACCOUNT, '--since', '4h', '--json']);
    expectExit(run, 0);
    const parsed = JSON.parse(run.stdout) as { account: string; since: string; counts: Record<string, number>; total: number; oldest: Record<string, { path: string; status: string; stale: boolean; ageSeconds: number } | null> };
    assert.equal(parsed.account, STATUS_ACCOUNT);
    assert.ok(Math.abs(Date.now() - 4 * 60 * MINUTE - Date.parse(parsed.since)) < MINUTE, parsed.since);
    assert.deepEqual(parsed.counts, { pending: 1, succeeded: 4, retrying: 3, failed: 3, invalid: 1 });
    assert.equal(parsed.total, 12);
    assert.equal(parsed.oldest.pending?.path, oldestPending);
    assert.equal(parsed.oldest.pending?.stale, false);
    assert.ok(Math.abs(parsed.oldest.pending!.ageSeconds - 8 * 3600) < 120, String(parsed.oldest.pending!.ageSeconds));
    assert.equal(parsed.oldest.retrying?.path, oldestRetrying);
    assert.equal(parsed.oldest.retrying?.status, 'retrying');
  });

  it('an account with no deliveries: zero counts and no oldest record', async () => {
    const run = await hookshape(['status', '--account', 'acc_status_none']);
    expectExit(run, 0);
    assert.match(run.stdout, /^total +0$/m);
    assert.match(run.stdout, /^oldest pending: +none$/m);
    assert.match(run.stdout, /^oldest retrying: +none$/m);
  });

  it('a pending record without a live owner is flagged for hookshape repair', async () => {
    const event = eventOf('call.created', 'acc_status_stale', {});
    const crashedAt = new Date(Date.now() - CLAIM_LEASE_MS - 5_000);
    const path = deliveryPath('acc_status_stale', 'hook-a', event.id);
    await h.db.doc(path).create(pendingDelivery(event, 'hook-a', 'Webhook hook-a', crashedAt, 30));
    try {
      const run = await hookshape(['status', '--account', 'acc_status_stale']);
      expectExit(run, 0);
      assert.match(run.stdout, new RegExp(`^oldest pending: +${path}\n.*has been in flight since .* without a result\n +no live owner: hookshape repair moves it on$`, 'm'));
    } finally {
      // The repair tests above count stale records across every account: leave none behind.
      await h.db.doc(path).delete();
    }
  });
});
