import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { PubSub } from '@google-cloud/pubsub';
import { XMLParser } from 'fast-xml-parser';
import { startCloudTasksEmulator, type CloudTasksEmulator } from '../../functions/dev/cloud-tasks-emulator/cloud-tasks-emulator.ts';
import { createEventsTopic, createRetryQueue } from '../../functions/dev/emulator-wiring.ts';
import { freePort } from '../../functions/dev/emulators.ts';
import { startFunctionProcess, type FunctionName, type FunctionProcess } from '../../functions/dev/function-process.ts';
import { BUILD_DIR, BUILD_METAFILE, EXTERNAL_PACKAGES, ROOT } from '../../scripts/build.ts';
import { asciiComments } from '../../scripts/ascii-output.ts';
import { lazyChunks } from '../../scripts/lazy-commonjs.ts';
import type { Metafile } from 'esbuild';
import { eventOf } from '../support/harness.ts';
import { deliveryPath, Firestore, loadConfig, webhookPath } from '../support/kit.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { until } from '../support/until.ts';
import { functionsEnv } from '../support/functions-env.ts';

// The deployable itself: build/functions is an esbuild bundle, and bundling can break what only runs
// later (a lazily imported chunk, a library reading its own files). Each entry point runs here from the
// bundle under the functions framework, as Cloud Functions runs it, and each lazy import is taken once
// from the bundle, here or in the test named in LAZY_IMPORTS. (The other integration tests run the
// bundle too, through test/support/harness.ts.) npm test builds first; run `npm run build` before
// running this file alone.

/** Every dynamic import in the bundle, and where a test takes it from the bundle. */
const LAZY_IMPORTS: Record<string, string> = {
  'node_modules/yaml/dist/index.js': "pipeline.test.ts 'keeps a yaml body well-formed' (CommonJS: lost its named exports before the build fix)",
  'node_modules/fast-xml-parser/src/fxp.js': "pipeline.test.ts 'keeps a xml body well-formed'; here, 'renders XML'",
  'node_modules/https-proxy-agent/dist/index.js': 'proxy.test.ts: the auth library through HTTPS_PROXY (CommonJS: lost its named export before the build fix)',
  'node_modules/node-fetch/src/index.js': "proxy.test.ts: gaxios's fetch, for the metadata server and the token",
  'node_modules/node-fetch/src/utils/multipart-parser.js': "here, 'the multipart parser of the bundled node-fetch' (gaxios never reads a multipart body)",
  '@google-cloud/tasks': "retries.test.ts, every retry; here, 'dispatches, retries through Cloud Tasks'",
  '@grpc/grpc-js': "retries.test.ts (insecure credentials for the Cloud Tasks emulator)",
  '@google-cloud/secret-manager': "here, 'loads the Secret Manager client'",
  '@google-cloud/pubsub': 'operational-events.test.ts: the first hookshape.delivery.failed of the dispatcher and of the retry worker',
  'functions/src/api/api-app.ts': 'api.test.ts: every request to the api function (its app is loaded on the first one)',
  'functions/src/entry/api-dependencies.ts': "api.test.ts: the api function's adapters, loaded with its app",
  crypto: "not taken: gaxios's fallback when globalThis.crypto is missing, which Node 22 always has (a Node builtin, never bundled)",
};

const SIGNING_SECRET = `whsec_${Buffer.alloc(32, 9).toString('base64')}`;

/** Every function process started, stopped after the tests even when a test failed half-way. */
const processes = new Set<FunctionProcess>();

async function serveBuilt(target: FunctionName, env: Record<string, string | undefined>, port?: number): Promise<FunctionProcess> {
  const fn = await startFunctionProcess({ target, env, ...(port ? { port } : {}) });
  processes.add(fn);
  return fn;
}

describe('the deployable bundle (build/functions)', () => {
  const projectId = `built-${randomBytes(4).toString('hex')}`;
  const work = mkdtempSync(join(tmpdir(), 'hookshape-built-'));
  let db: Firestore;
  let receiver: Receiver;
  let tasks: CloudTasksEmulator;
  let pubsub: PubSub | undefined;

  before(async () => {
    assert.ok(existsSync(join(BUILD_DIR, 'index.js')), 'build/functions/index.js is missing: run npm run build');
    db = new Firestore({ projectId });
    [receiver, tasks] = await Promise.all([startReceiver(), startCloudTasksEmulator()]);
  });
  after(async () => {
    await Promise.allSettled([...processes].map((fn) => fn.kill()));
    await Promise.allSettled([receiver.close(), tasks.stop(), pubsub?.close(), db.terminate()]);
    rmSync(work, { recursive: true, force: true });
  });

  it('is a bundle that depends only on the packages it leaves external', () => {
    const deployed = JSON.parse(readFileSync(join(BUILD_DIR, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; main: string };
    assert.deepEqual(Object.keys(deployed.dependencies).sort(), [...EXTERNAL_PACKAGES].sort());
    assert.equal(deployed.main, 'index.js');
    const sources = readdirSync(BUILD_DIR).filter((name) => name.endsWith('.js'));
    for (const name of sources) {
      const text = readFileSync(join(BUILD_DIR, name), 'utf8');
      const imports = [...text.matchAll(/^import\s[^'"]*from\s*["']([^"']+)["']/gm), ...text.matchAll(/\bimport\(["']([^"']+)["']\)/g)].map((match) => match[1]!);
      const packages = imports.filter((specifier) => !specifier.startsWith('./') && !specifier.startsWith('node:') && !builtinModules.includes(specifier));
      const undeployed = packages.filter((specifier) => !(specifier in deployed.dependencies));
      assert.deepEqual(undeployed, [], `${name} imports packages that are not deployed`);
    }
  });

  it('is ASCII but where code needs more: V8 then keeps the sources at one byte per character', async () => {
    // Non-ASCII characters in the libraries' comments made the 4 MB main chunk UTF-16: 7.7 MB of heap.
    const files = readdirSync(BUILD_DIR).filter((name) => name.endsWith('.js'));
    const notAscii = files.filter((name) => /[^\x00-\x7f]/.test(readFileSync(join(BUILD_DIR, name), 'utf8')));
    for (const name of notAscii) {
      const { nonAsciiCode } = await asciiComments(readFileSync(join(BUILD_DIR, name), 'utf8'));
      assert.ok(nonAsciiCode, `${name}: its non-ASCII characters are all in comments, which the build makes ASCII`);
    }
    const largest = files.map((name) => ({ name, size: statSync(join(BUILD_DIR, name)).size })).sort((a, b) => b.size - a.size)[0]!;
    assert.ok(largest.size > 1024 * 1024 && !notAscii.includes(largest.name), `the main chunk ${largest.name} is ASCII`);
  });

  it('loads at start only what every event needs: Tasks, Secret Manager, Pub/Sub, YAML and XML on first use', () => {
    // esbuild's metafile says which output files import which, and how: what a cold instance loads
    // before its first event is the entry file and everything it imports statically.
    const { outputs } = JSON.parse(readFileSync(BUILD_METAFILE, 'utf8')) as {
      outputs: Record<string, { entryPoint?: string; inputs: Record<string, unknown>; imports: Array<{ path: string; kind: string; external?: boolean }> }>;
    };
    const entry = Object.keys(outputs).find((name) => outputs[name]!.entryPoint?.endsWith('functions/src/index.ts'));
    assert.ok(entry, 'the metafile names the entry point');
    const loadedAtStart = new Set<string>();
    const visit = (name: string) => {
      if (loadedAtStart.has(name)) return;
      loadedAtStart.add(name);
      for (const imported of outputs[name]!.imports) if (!imported.external && imported.kind === 'import-statement') visit(imported.path);
    };
    visit(entry);
    const packageOf = (input: string) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1];
    const packagesIn = (names: Iterable<string>) => new Set([...names].flatMap((name) => Object.keys(outputs[name]!.inputs).map(packageOf)));
    const bundled = packagesIn(Object.keys(outputs));
    assert.ok(!bundled.has('@google-cloud/pubsub'), 'the Pub/Sub client is not bundled (events arrive over HTTP; operational events load it, external, on first use)');
    const atStart = packagesIn(loadedAtStart);
    for (const lazy of ['yaml', 'fast-xml-parser']) {
      assert.ok(bundled.has(lazy), `${lazy} is bundled`);
      assert.ok(!atStart.has(lazy), `${lazy} is loaded before the first event`);
    }
    assert.ok(atStart.has('@google-cloud/firestore') && atStart.has('got') && atStart.has('liquidjs'), 'the static graph is the one every event uses');
    const externalImports = Object.values(outputs).flatMap((output) => output.imports.filter((imported) => imported.external));
    for (const lazy of ['@google-cloud/tasks', '@google-cloud/secret-manager', '@google-cloud/pubsub']) {
      const kinds = new Set(externalImports.filter((imported) => imported.path === lazy).map((imported) => imported.kind));
      assert.deepEqual([...kinds], ['dynamic-import'], `${lazy} is imported only on first use`);
    }
  });

  it('every lazy import of the bundle is one a test takes from the bundle (LAZY_IMPORTS)', () => {
    // A new dynamic import (ours or a library's) fails here until a test takes it from the bundle.
    const metafile = JSON.parse(readFileSync(BUILD_METAFILE, 'utf8')) as Metafile;
    const bundled = lazyChunks(metafile).map(({ source }) => source);
    const external = Object.values(metafile.outputs).flatMap((output) => output.imports.filter((imported) => imported.kind === 'dynamic-import' && imported.external).map((imported) => imported.path));
    assert.deepEqual([...new Set([...bundled, ...external])].sort(), Object.keys(LAZY_IMPORTS).sort());
  });

  it('the multipart parser of the bundled node-fetch: its lazy chunk loads and parses', async () => {
    // Only Response.formData() of a multipart body loads it, which gaxios never calls: taken here directly.
    const metafile = JSON.parse(readFileSync(BUILD_METAFILE, 'utf8')) as Metafile;
    const chunk = lazyChunks(metafile).find(({ source }) => source === 'node_modules/node-fetch/src/index.js');
    assert.ok(chunk, 'the bundle has the node-fetch chunk');
    const { Response } = (await import(pathToFileURL(join(ROOT, chunk.chunk)).href)) as { Response: typeof globalThis.Response };
    const body = '--b0undary\r\nContent-Disposition: form-data; name="call"\r\n\r\ncall_7\r\n--b0undary--\r\n';
    const form = await new Response(body, { headers: { 'content-type': 'multipart/form-data; boundary=b0undary' } }).formData();
    assert.equal(form.get('call'), 'call_7');
  });

  it('dispatches, retries through Cloud Tasks to the retry worker, signs, and renders XML', async () => {
    const secretsFile = join(work, 'secrets.json');
    writeFileSync(secretsFile, JSON.stringify({ acc_built: { SIGNING: SIGNING_SECRET, TOKEN: 'tok_built' } }));
    const workerPort = await freePort();
    const env = functionsEnv({ projectId, tasksAddress: tasks.address, workerPort }, { LOCAL_SECRETS_FILE: secretsFile });
    const retryWorker = await serveBuilt('retryWorker', env, workerPort);
    const dispatch = await serveBuilt('dispatchEvent', env);
    const config = loadConfig(env);
    await createRetryQueue({ address: tasks.address, projectId, location: config.tasks.location, queue: config.tasks.queue });
    pubsub = await createEventsTopic({ projectId, topic: config.eventsTopic, dispatchUrl: dispatch.url });

    await db.doc(webhookPath('acc_built', 'wh_xml')).set({
      name: 'xml',
      events: ['call.created'],
      url: `${receiver.url}/soap/{{ data.n }}`,
      format: 'xml',
      headers: { Authorization: 'Bearer {{ secrets.TOKEN }}' },
      body: '<call><n>{{ data.n }}</n><who>{{ data.who }}</who></call>',
      signingSecretName: 'SIGNING',
    });
    receiver.statuses(503);
    const event = eventOf('call.created', 'acc_built', { n: 5, who: 'Ann & <Bo>' });
    await pubsub.topic(config.eventsTopic).publishMessage({ json: event, attributes: { type: event.type, accountId: event.accountId } });

    let seen: unknown;
    const record = await until('the delivery to succeed', async () => {
      const data = (await db.doc(deliveryPath('acc_built', 'wh_xml', event.id)).get()).data();
      seen = data;
      return data?.status === 'succeeded' || data?.status === 'failed' || data?.status === 'invalid' ? data : undefined;
    }, 60_000, () => `record: ${JSON.stringify(seen)}\ndispatch: ${dispatch.output()}\nworker: ${retryWorker.output()}`);
    assert.equal(record.status, 'succeeded', `${String(record.lastError)}\n${dispatch.output()}\n${retryWorker.output()}`);
    assert.equal(record.attempts.length, 2, 'the first attempt got 503; the second came from the retry worker');
    // The worker records the result in Firestore before it answers the task, so the emulator's record of
    // that answer can come a moment after the delivery record reads 'succeeded'.
    await until('the emulator to record the retry worker\'s 200', async () =>
      tasks.dispatched.some((entry) => entry.url.startsWith(retryWorker.url) && entry.status === 200) ? true : undefined,
      10_000, () => `dispatched: ${JSON.stringify(tasks.dispatched)}\nworker: ${retryWorker.output()}`);
    const requests = receiver.requests.filter((request) => request.url === '/soap/5');
    assert.equal(requests.length, 2);
    const last = requests[1]!;
    assert.deepEqual(new XMLParser().parse(last.body), { call: { n: 5, who: 'Ann & <Bo>' } });
    assert.equal(last.headers.authorization, 'Bearer tok_built');
    // The Standard Webhooks signature over the XML body (the standard's library only verifies JSON bodies).
    const signed = `${String(last.headers['webhook-id'])}.${String(last.headers['webhook-timestamp'])}.${last.body}`;
    const expected = createHmac('sha256', Buffer.from(SIGNING_SECRET.slice('whsec_'.length), 'base64')).update(signed).digest('base64');
    assert.equal(last.headers['webhook-signature'], `v1,${expected}`);
    assert.equal(last.headers['webhook-id'], event.id);
  });

  it('validates a webhook document written in the console (validateWebhook)', async () => {
    const validate = await serveBuilt('validateWebhook', { GOOGLE_CLOUD_PROJECT: projectId, METADATA_SERVER_DETECTION: 'none' });
    const document = webhookPath('acc_built', 'wh_typo');
    await db.doc(document).set({ name: 'typo', events: ['call.created'], url: 'https://example.com/x', body: '{"a": {{ data.n | jsn }}}', format: 'yaml' });
    // What Eventarc's Firestore trigger sends (binary mode; the function reads the document itself).
    const response = await fetch(validate.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/protobuf',
        'ce-specversion': '1.0',
        'ce-id': randomBytes(8).toString('hex'),
        'ce-source': `//firestore.googleapis.com/projects/${projectId}/databases/(default)`,
        'ce-type': 'google.cloud.firestore.document.v1.written',
        'ce-time': new Date().toISOString(),
        'ce-subject': `documents/${document}`,
      },
      body: Buffer.alloc(0),
    });
    assert.ok(response.ok, `validateWebhook answered ${response.status}: ${await response.text()}\n${validate.output()}`);
    const validation = await until('the validation field', async () => (await db.doc(document).get()).get('validation') as { ok: boolean; errors: Array<{ field: string; message: string }> } | undefined);
    assert.equal(validation.ok, false);
    assert.ok(validation.errors.some((error) => error.field === 'body' && /undefined filter 'jsn'/.test(error.message)), JSON.stringify(validation.errors));
  });

  it('loads the Secret Manager client from the bundle when secrets come from Secret Manager', async () => {
    // No credentials here: the bundled client must get as far as asking for them. A bundling fault
    // (a missing chunk or proto file) would fail earlier, with a different error.
    const dispatch = await serveBuilt('dispatchEvent', {
      GOOGLE_CLOUD_PROJECT: projectId,
      SECRETS_SOURCE: 'secret-manager',
      METADATA_SERVER_DETECTION: 'none',
      GOOGLE_APPLICATION_CREDENTIALS: '',
      ALLOW_LOOPBACK_DESTINATIONS: 'true',
      RETRY_WORKER_URL: 'http://127.0.0.1:9/',
    });
    await db.doc(webhookPath('acc_sm', 'wh_sm')).set({ name: 'sm', events: ['call.created'], url: `${receiver.url}/sm` });
    const event = eventOf('call.created', 'acc_sm', {});
    const response = await fetch(`${dispatch.url}projects/${projectId}/topics/hookshape-events`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        message: { data: Buffer.from(JSON.stringify(event)).toString('base64'), attributes: { type: event.type, accountId: event.accountId }, messageId: `msg_${event.id}`, publishTime: new Date().toISOString() },
        subscription: `projects/${projectId}/subscriptions/hookshape-events-dispatch`,
      }),
    });
    await response.text();
    assert.ok(response.status >= 500, 'without secrets the event is refused, so Pub/Sub redelivers it');
    const output = await until('the credentials error in the log', async () => (/default credentials/i.test(dispatch.output()) ? dispatch.output() : undefined), 15_000, () => dispatch.output());
    assert.doesNotMatch(output, /Cannot find (module|package)|ENOENT|is not a function|is not a constructor/);
  });
});

