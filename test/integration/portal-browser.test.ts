import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import chromium from '@sparticuz/chromium';
import { chromium as playwright, type BrowserContext, type Page } from 'playwright-core';
import { startCloudTasksEmulator, type CloudTasksEmulator } from '../../functions/dev/cloud-tasks-emulator/cloud-tasks-emulator.ts';
import { serveBuiltFunction, type BuiltFunction } from '../../functions/dev/built-function.ts';
import { cloudTasksEmulatorClient, createRetryQueue } from '../../functions/dev/emulator-wiring.ts';
import { freePort } from '../../functions/dev/emulators.ts';
import { startLocalApi } from '../../functions/dev/local-api.ts';
import { BUILD_DIR, ROOT } from '../../scripts/build.ts';
import { call } from '../support/api-client.ts';
import { createMemoryLogger, CUSTOMER_SCOPES, CustomerTokens, deliveryPath, EVENT_CATALOGUE, Firestore, FirestoreApiKeyStore, loadConfig, portalPath, webhookPath, type EventType } from '../support/kit.ts';
import { startReceiver, type Receiver, type Responder } from '../support/receiver.ts';
import { until } from '../support/until.ts';
import { functionsEnv } from '../support/functions-env.ts';

// The customer portal in a real Chromium (@sparticuz/chromium's, driven by playwright-core) against
// the built api function (build/functions, its portal included), the Firestore emulator, the Cloud
// Tasks emulator and the built retry worker. Each page is checked with axe-core and photographed
// (docs/screenshots/). A hostile receiver must not run a single script in the portal.

const A = 'acc_portal_a';
const B = 'acc_portal_b';
const SHOTS = join(ROOT, 'docs', 'screenshots');
const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
const HOSTILE_BODY = `<script>window.__pwned=(window.__pwned||0)+1</script><img src=x onerror="window.__pwned=(window.__pwned||0)+1"><a href="javascript:window.__pwned=1">click</a><svg onload="window.__pwned=1"></svg>`;

const eventTypeSample = (type: EventType) => EVENT_CATALOGUE[type].sample as Record<string, unknown>;
/** The receiver's usual answer: markup, script and a hostile Content-Type, which the portal must show as text. */
const hostile: Responder = (_request, res) => {
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('X-Evil', '<script>window.__pwned=1</script>');
  res.end(HOSTILE_BODY);
};

const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Moves the portal to `hash` and resolves once its hashchange handler has run (the portal's listener was
 * added first; render swaps <main> before it awaits anything): what is then on screen is the new route's,
 * never the page before's (setting location.hash alone returns before the event is dispatched).
 */
const go = (page: Page, hash: string) =>
  page.evaluate((target) => new Promise<void>((resolve) => {
    if (location.hash === target) return resolve();
    addEventListener('hashchange', () => resolve(), { once: true });
    location.hash = target;
  }), hash);
/** history.back(), resolved as `go` is. */
const back = (page: Page) =>
  page.evaluate(() => new Promise<void>((resolve) => {
    addEventListener('hashchange', () => resolve(), { once: true });
    history.back();
  }));

describe('the portal in a browser (build/functions)', () => {
  const projectId = `portal-${randomBytes(4).toString('hex')}`;
  const work = mkdtempSync(join(tmpdir(), 'hookshape-portal-'));
  const secretsFile = join(work, 'secrets.json');
  const processes: BuiltFunction[] = [];
  let db: Firestore;
  let receiver: Receiver;
  let tasks: CloudTasksEmulator;
  let api: BuiltFunction;
  let key = '';
  let context: BrowserContext;
  let config: ReturnType<typeof loadConfig>;

  before(async () => {
    assert.ok(existsSync(join(BUILD_DIR, 'portal', 'index.html')), 'build/functions/portal is missing: run npm run build');
    mkdirSync(SHOTS, { recursive: true });
    db = new Firestore({ projectId });
    [receiver, tasks] = await Promise.all([startReceiver(), startCloudTasksEmulator()]);
    // The receiver answers with markup, script and a hostile Content-Type: the portal must show it as text.
    receiver.respond(hostile);
    writeFileSync(secretsFile, JSON.stringify({ [A]: { RECEIVER_TOKEN: 'tok-portal' } }));
    const workerPort = await freePort();
    const env = functionsEnv(
      { projectId, tasksAddress: tasks.address, workerPort },
      { WEBHOOK_CACHE_SECONDS: '0', LOCAL_SECRETS_FILE: secretsFile, PORTAL_BRANDING: JSON.stringify({ name: 'Acme webhooks', primaryColor: '#0b57d0' }) },
    );
    config = loadConfig(env);
    await createRetryQueue({ address: tasks.address, projectId, location: config.tasks.location, queue: config.tasks.queue });
    processes.push(await serveBuiltFunction('retryWorker', 'http', env, { port: workerPort }));
    api = await startLocalApi({ env, signingKeysFile: join(work, 'jwt-keys.json'), port: await freePort() });
    processes.push(api);
    key = (await new FirestoreApiKeyStore(db, createMemoryLogger()).create({ name: 'platform', accountId: null, createdBy: 'test' })).key;
    context = await playwright.launchPersistentContext(mkdtempSync(join(work, 'profile-')), {
      executablePath: await chromium.executablePath(),
      headless: true,
      args: [...chromium.args, '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1100, height: 800 },
    });
    // Counted in every page before its own scripts: injected scripts that ran, and CSP violations.
    await context.addInitScript(() => {
      const w = window as unknown as { __csp: string[] };
      w.__csp = [];
      document.addEventListener('securitypolicyviolation', (event) => w.__csp.push(`${event.violatedDirective} ${event.blockedURI}`));
    });
  });

  after(async () => {
    await context?.close();
    await Promise.allSettled(processes.map((process) => process.stop()));
    await Promise.allSettled([receiver.close(), tasks.stop(), db.terminate()]);
    rmSync(work, { recursive: true, force: true });
  });

  const portalLink = async (accountId: string) => (await call(api.url, 'POST', `/v1/accounts/${accountId}/portal-sessions`, { token: key, body: { subject: 'browser-test' } })).json.url as string;

  async function open(url: string): Promise<{ page: Page; apiCalls: string[] }> {
    const page = await context.newPage();
    const apiCalls: string[] = [];
    page.on('request', (request) => {
      const target = new URL(request.url());
      assert.equal(target.origin, new URL(api.url).origin, `no request to another origin (${request.url()})`);
      if (target.pathname.startsWith('/v1/')) apiCalls.push(`${request.method()} ${target.pathname}`);
    });
    await page.goto(url.replace(/^https?:\/\/[^/]+/, api.url));
    return { page, apiCalls };
  }

  /** axe-core on the page as it is: no serious or critical violation. */
  async function accessible(page: Page, name: string): Promise<void> {
    await page.evaluate(`${AXE_SOURCE};0`);
    const result = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as { violations: Array<{ id: string; impact: string; nodes: Array<{ target: string[] }> }> };
    const bad = result.violations.filter((violation) => violation.impact === 'serious' || violation.impact === 'critical');
    assert.deepEqual(bad.map((violation) => `${violation.id}: ${violation.nodes.map((node) => node.target.join(' ')).join(', ')}`), [], `axe on ${name}`);
    await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  }

  /** The accessible description a screen reader gets for the element of this role and name (Chromium's accessibility tree, through shadow roots). */
  async function accessibleDescription(page: Page, role: string, name: string): Promise<string> {
    const cdp = await context.newCDPSession(page);
    try {
      const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: Array<{ ignored?: boolean; role?: { value?: string }; name?: { value?: string }; description?: { value?: string } }> };
      const found = nodes.filter((node) => !node.ignored && node.role?.value === role && node.name?.value === name);
      assert.equal(found.length, 1, `one ${role} named ${name} (found ${found.length})`);
      return found[0]!.description?.value ?? '';
    } finally {
      await cdp.detach();
    }
  }

  /** Waits (5 s at most) until that description matches: the accessibility tree follows the DOM a moment later. */
  async function describedAs(page: Page, role: string, name: string, pattern: RegExp): Promise<void> {
    let last = '';
    for (const started = Date.now(); Date.now() - started < 5_000; await new Promise((resolve) => setTimeout(resolve, 100))) {
      last = await accessibleDescription(page, role, name);
      if (pattern.test(last)) return;
    }
    assert.fail(`the ${role} "${name}" is described as ${JSON.stringify(last)}, not ${pattern}`);
  }

  const safe = async (page: Page) => {
    assert.equal(await page.evaluate('window.__pwned'), undefined, 'no script of the receiver ran');
    assert.deepEqual(await page.evaluate('window.__csp'), [], 'no CSP violation');
  };

  it('serves the portal with a strict CSP, nosniff, no referrer, same-origin resource and opener policies, hashed assets cached for good and index.html revalidated', async () => {
    const index = await fetch(`${api.url}/portal/`);
    assert.equal(index.status, 200);
    const csp = index.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"]) assert.ok(csp.includes(directive), `${directive} in ${csp}`);
    assert.equal(index.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(index.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(index.headers.get('cross-origin-resource-policy'), 'same-origin');
    assert.equal(index.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const html = await index.text();
    assert.ok(!/<script>|<style>| style=/.test(html), 'no inline script or style');
    const asset = /src="(\/portal\/assets\/index-[\w-]+\.js)"/.exec(html)![1]!;
    const js = await fetch(`${api.url}${asset}`);
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal((await fetch(`${api.url}/portal/../index.js`)).status, 404);
    assert.equal((await fetch(`${api.url}/portal/assets/..%2F..%2Findex.js`)).status, 404);
  });

  it('an expired token and another account\'s token show "Session expired" and read nothing', async () => {
    const expired = `${b64url({ alg: 'EdDSA' })}.${b64url({ acc: A, exp: Math.floor(Date.now() / 1000) - 60, scope: 'webhooks:read', sub: 'x' })}.c2ln`;
    const first = await open(`${api.url}/portal/#token=${expired}`);
    await first.page.getByRole('heading', { name: 'Session expired' }).waitFor();
    assert.deepEqual(first.apiCalls, []);
    await accessible(first.page, 'session-expired');
    await first.page.close();
    const other = await open(`${await portalLink(B)}&account=${A}`);
    await other.page.getByRole('heading', { name: 'Session expired' }).waitFor();
    assert.deepEqual(other.apiCalls, []);
    await other.page.close();
  });

  /** A page whose requests matching `match` get `answer`'s reply (a fulfilled answer, or `abort` for a network failure) before it opens `url`. */
  async function openWith(url: string, match: (url: URL) => boolean, answer: () => { status: number; contentType: string; body: string } | 'abort'): Promise<Page> {
    const page = await context.newPage();
    await page.route(match, (route) => {
      const reply = answer();
      return reply === 'abort' ? route.abort('failed') : route.fulfill(reply);
    });
    await page.goto(url.replace(/^https?:\/\/[^/]+/, api.url));
    return page;
  }
  const ERROR_PAGE = '<!doctype html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><script>window.__pwned=1</script></body></html>';

  it('an API answering 500 or 502 with an HTML page, HTML instead of JSON, or not at all (a network failure): a clear message where the page would be, never raw HTML or a blank page', async () => {
    type Reply = { status: number; contentType: string; body: string } | 'abort';
    let reply: Reply = { status: 500, contentType: 'text/html; charset=utf-8', body: ERROR_PAGE };
    const page = await openWith(await portalLink(A), (url) => url.pathname === `/v1/accounts/${A}/webhooks` && url.searchParams.get('limit') === '100', () => reply);
    const alert = page.locator('main [role=alert]');
    const cases: Array<{ name: string; reply: Reply; hash: string; message: RegExp }> = [
      { name: 'a 500 with an HTML page', reply, hash: '#/webhooks', message: /^The API answered HTTP 500 without an explanation: try again in a moment\.$/ },
      { name: 'HTML with a 200', reply: { status: 200, contentType: 'text/html', body: ERROR_PAGE }, hash: '#/secrets', message: /^The API's answer \(HTTP 200, text\/html\) is not JSON: try again in a moment\.$/ },
      { name: 'a network failure', reply: 'abort', hash: '#/deliveries', message: /^The API cannot be reached \(a network failure\): check the connection, then try again\.$/ },
    ];
    for (const item of cases) {
      reply = item.reply;
      if (item.hash !== '#/webhooks') await go(page, item.hash);
      await alert.filter({ hasText: item.message }).waitFor({ timeout: 10_000 }).catch(async () => assert.fail(`${item.name}: no such alert; the page reads ${JSON.stringify(await page.locator('main').textContent())}`));
      assert.match((await alert.textContent()) ?? '', item.message, item.name);
      assert.ok(!((await page.locator('main').textContent()) ?? '').includes('<'), `no markup shown (${item.name})`);
      await safe(page);
    }
    await page.close();
  });

  it('a portal that cannot start (its settings or the event catalogue unreadable) says so, instead of a blank page or "Loading…" for ever', async () => {
    const noConfig = await openWith(await portalLink(A), (url) => url.pathname === '/portal/config.json', () => 'abort');
    await noConfig.getByRole('alert').filter({ hasText: /^The portal cannot start: its settings cannot be read\. Reload the page to try again\.$/ }).waitFor({ timeout: 10_000 });
    await noConfig.close();
    const noCatalogue = await openWith(await portalLink(A), (url) => url.pathname === `/v1/accounts/${A}/event-types`, () => ({ status: 500, contentType: 'text/html', body: ERROR_PAGE }));
    await noCatalogue.getByRole('alert').filter({ hasText: /^The portal cannot start: The API answered HTTP 500 without an explanation: try again in a moment\. Reload the page to try again\.$/ }).waitFor({ timeout: 10_000 });
    assert.ok(!((await noCatalogue.locator('body').textContent()) ?? '').includes('<'), 'no markup shown');
    await safe(noCatalogue);
    await noCatalogue.close();
  });

  it('a huge request and answer: the delivery says what the log cut (the first bytes kept, of how many), and the page stays within its width', async () => {
    const H = 'acc_portal_huge';
    const made = await call(api.url, 'POST', `/v1/accounts/${H}/webhooks`, { token: key, body: { id: 'wh_huge', name: 'Huge', events: ['call.created'], url: `${receiver.url}/huge`, body: '{"id": {{ data.call.id | json }}}' } });
    assert.equal(made.status, 201, made.text);
    const sample = eventTypeSample('call.created');
    receiver.respond((_request, res) => void res.setHeader('Content-Type', 'text/plain').end(`${'x'.repeat(100_000)}END`));
    const tested = await call(api.url, 'POST', `/v1/accounts/${H}/webhooks/wh_huge/test`, { token: key, body: { data: { ...sample, call: { ...(sample.call as object), id: 'y'.repeat(20_000) } } } });
    receiver.respond(hostile);
    assert.equal(tested.status, 201, tested.text);
    const { page } = await open(`${await portalLink(H)}&page=${encodeURIComponent(`/deliveries/wh_huge/${tested.json.eventId as string}`)}`);
    await page.getByRole('heading', { name: /^Delivery .*: succeeded$/ }).waitFor();
    const request = (await page.getByLabel('Request', { exact: true }).textContent()) ?? '';
    const response = (await page.getByLabel('Response', { exact: true }).textContent()) ?? '';
    assert.match(request, /\n\[truncated: the log keeps the first 16,384 of 20,010 bytes sent\]$/, 'the request body says it was cut');
    assert.match(response, /\n\[truncated: the log keeps the first 8,192 of [\d,]+ bytes read\]$/, 'the answer says it was cut');
    assert.ok(!response.includes('END'));
    assert.ok((await page.evaluate('document.documentElement.scrollWidth')) as number <= 1100, 'no page-wide horizontal scroll');
    await safe(page);
    await page.close();
  });

  it('Recover: replays the failed deliveries since a time and follows the job until it is done; a page left stops following', async () => {
    const R = 'acc_portal_recover';
    const made = await call(api.url, 'POST', `/v1/accounts/${R}/webhooks`, { token: key, body: { id: 'wh_recover', name: 'Recover me', events: ['call.created'], url: `${receiver.url}/recover` } });
    assert.equal(made.status, 201, made.text);
    /** A test delivery the receiver refuses for good (410): failed, to be recovered. */
    const failedDelivery = async () => {
      receiver.respond((_request, res) => {
        res.statusCode = 410;
        res.end('gone');
      });
      const tested = await call(api.url, 'POST', `/v1/accounts/${R}/webhooks/wh_recover/test`, { token: key, body: {} });
      receiver.respond(hostile);
      assert.equal(tested.status, 201, tested.text);
      assert.equal(tested.json.status, 'failed', tested.text);
    };
    await failedDelivery();
    const before = receiver.requests.length;
    const { page, apiCalls } = await open(`${await portalLink(R)}&page=${encodeURIComponent('/deliveries')}`);
    const recoverStatus = page.locator('form.recover [role=status]');
    let shown = '';
    const statusBecomes = (pattern: RegExp) =>
      until(`the Recover status ${pattern}`, async () => {
        shown = (await recoverStatus.textContent()) ?? '';
        return pattern.test(shown) ? true : undefined;
      }, 30_000, () => `it reads ${JSON.stringify(shown)}`);
    await page.getByRole('button', { name: 'Recover', exact: true }).click();
    await statusBecomes(/^1 of 1 replayed; 1 succeeded — done$/);
    await receiver.waitFor(before + 1);
    await safe(page);

    // A job still running (its replay waits on a paused queue) is followed while its page is shown, not after.
    await failedDelivery();
    const client = cloudTasksEmulatorClient(tasks.address);
    const queue = client.queuePath(projectId, config.tasks.location, config.tasks.queue);
    await client.pauseQueue({ name: queue });
    try {
      await page.getByRole('button', { name: 'Recover', exact: true }).click();
      await statusBecomes(/^1 of 1 replayed; 1 retrying…$/);
      const polls = () => apiCalls.filter((item) => /^GET \/v1\/accounts\/[^/]+\/recover-jobs\//.test(item)).length;
      const followed = polls();
      // Within the longest wait between two polls (10 s): followed while shown.
      await until('a poll of the job while its page is shown', () => (polls() > followed ? true : undefined), 11_000);
      await page.getByRole('link', { name: 'Webhooks' }).click();
      await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
      const left = polls();
      // Longer than the longest wait between two polls (10 s): a poll still scheduled would have run.
      await page.waitForTimeout(11_000);
      assert.equal(polls(), left, 'no poll of the job once its page is left');
    } finally {
      const sent = receiver.requests.length;
      await client.resumeQueue({ name: queue });
      await client.close();
      // The replay goes out now: waited for here, so that no later test counts it as its own request.
      await receiver.waitFor(sent + 1);
    }
    await page.close();
  });

  it('"Session expired" is final: a session that ends while in use (its token expires) stays ended when the person moves to another page (a link, the back button), and calls nothing', async () => {
    // A real token of 12 seconds (time enough to load the first page on a busy machine; its iat is rounded
    // down to the second), signed with the API's key document: the portal works, then the token expires.
    const short = (await new CustomerTokens({ read: () => readFile(join(work, 'jwt-keys.json'), 'utf8') }, { now: () => new Date() }).mint({ accountId: A, subject: 'browser-test', scopes: CUSTOMER_SCOPES, ttlSeconds: 12 })).token;
    const expiresAt = (JSON.parse(Buffer.from(short.split('.')[1]!, 'base64url').toString()) as { exp: number }).exp * 1000;
    const { page, apiCalls } = await open(`${api.url}/portal/#token=${short}`);
    await page.getByRole('heading', { name: 'Webhooks', exact: true }).waitFor();
    assert.ok(Date.now() < expiresAt, 'the first page came while the token was valid');
    await page.getByRole('heading', { name: 'Session expired' }).waitFor({ timeout: expiresAt - Date.now() + 10_000 });
    assert.ok(Date.now() >= expiresAt - 1000, 'ended at its expiry, not before');
    const before = apiCalls.length;
    for (const hash of ['#/deliveries', '#/secrets', '#/webhooks/wh_x']) {
      await go(page, hash);
      await page.waitForTimeout(500); // time for a request the route would make, were it made
      assert.equal(await page.getByRole('heading', { name: 'Session expired' }).count(), 1, `still Session expired at ${hash}`);
      assert.equal(await page.getByRole('navigation').count(), 0, `no navigation at ${hash}`);
    }
    await back(page);
    await page.waitForTimeout(500);
    assert.equal(await page.getByRole('heading', { name: 'Session expired' }).count(), 1, 'still Session expired after Back');
    assert.deepEqual(apiCalls.slice(before), [], 'no request with the ended token');
    await page.close();
  });

  it('from an empty account, only through the UI: create a webhook (picker, preview, save), send a test, see the hostile answer as text, break the template, replay', async () => {
    const { page } = await open(await portalLink(A));
    await page.getByRole('heading', { name: 'No webhooks yet' }).waitFor();
    await accessible(page, 'webhooks-empty');

    await page.getByRole('link', { name: 'Create webhook' }).click();
    await page.getByLabel('Name', { exact: true }).fill('CRM calls');
    await page.getByLabel('Event type').selectOption('call.created');
    await page.getByLabel('URL template').fill(`${receiver.url}/calls`);
    await page.locator('.cm-content').click();
    await page.keyboard.type('{"email": "');
    await page.getByLabel('Variable', { exact: true }).selectOption('data.customer.email');
    assert.match(await page.locator('#picker-info').textContent() ?? '', /string .*maria\.conceicao@example\.com/);
    await page.getByRole('button', { name: 'Insert variable' }).click();
    await page.keyboard.type('", "seconds": ');
    await page.getByLabel('Variable', { exact: true }).selectOption('data.call.durationSeconds');
    await page.getByRole('button', { name: 'Insert variable' }).click();
    await page.keyboard.type('}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/^Saved at/).waitFor({ timeout: 10_000 }).catch(async (error: Error) => assert.fail(`${error.message}\n${await page.locator('main').textContent()}`));
    await page.locator('#preview', { hasText: '"email": "maria.conceicao@example.com", "seconds": 805' }).waitFor();
    await accessible(page, 'editor');

    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByRole('heading', { name: /^Test: / }).waitFor();
    const response = page.getByLabel('Response', { exact: true });
    assert.ok((await response.textContent())!.includes(HOSTILE_BODY), 'the answer is shown as its text');
    assert.equal(await page.locator('main img, main svg[onload], main a[href^="javascript"]').count(), 0, 'no element from the answer');
    await safe(page);

    // Broken template: the dispatcher's message, with line and column, under the body.
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.type(' {{ data.call.id | nope }}');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator('#body-error', { hasText: /nope.*line 1, column \d+/ }).waitFor();

    await page.getByRole('link', { name: 'Deliveries' }).click();
    await page.getByRole('button', { name: /^succeeded · call\.created · evt_test_/ }).click();
    await page.getByRole('heading', { name: /^Delivery evt_test_.*: succeeded/ }).waitFor();
    await safe(page);
    await accessible(page, 'deliveries');
    const before = receiver.requests.length;
    // The replayed attempt is answered slowly: the page must follow the delivery until it is done,
    // not look once shortly after the click.
    receiver.respond((request, res) => void setTimeout(() => hostile(request, res), 4000));
    await page.getByRole('button', { name: 'Replay' }).click();
    await page.getByText(/^Replay of evt_test_.* started\./).waitFor();
    await receiver.waitFor(before + 1);
    await page.getByRole('heading', { name: /^Attempt 2 \(primary\) · succeeded · / }).waitFor({ timeout: 20_000 });
    receiver.respond(hostile);
    await safe(page);

    await page.getByRole('link', { name: 'Secrets' }).click();
    await page.getByRole('heading', { name: 'Signing secret' }).waitFor();
    await accessible(page, 'secrets');
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByRole('button', { name: 'Save secret' }).click();
    await page.getByText(/^Saved as /).waitFor();
    // Saving again is a rotation: the previous secret keeps signing for 24 hours, unless ended at once.
    await page.getByRole('checkbox', { name: /Stop signing with the previous secret now/ }).check();
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByRole('button', { name: 'Save secret' }).click();
    await page.getByText(/^Saved as .*\. Deliveries are signed with it from now on\.$/).waitFor();
    await page.getByRole('button', { name: 'Generate' }).click();
    await page.getByRole('button', { name: 'Save secret' }).click();
    await page.getByText(/^Saved as .*\. Until .*, requests are also signed with the previous secret\.$/).waitFor();
    await page.setViewportSize({ width: 320, height: 700 });
    await page.getByRole('link', { name: 'Webhooks' }).click();
    await page.getByRole('link', { name: 'CRM calls', exact: true }).waitFor();
    // A webhook in a rotation's overlap duplicates without it (the copy is a new webhook: the API refuses hookshape's fields).
    await page.getByRole('button', { name: 'Duplicate CRM calls' }).click();
    await page.getByRole('link', { name: 'CRM calls (copy)' }).waitFor();
    assert.ok((await page.evaluate('document.documentElement.scrollWidth')) as number <= 340, 'readable at 320 px: no page-wide horizontal scroll');
    await accessible(page, 'webhooks-320px');
    await page.close();
  });

  it('a double click sends once: Duplicate makes one copy, Save one PATCH (never a 412 against its own first save), Replay one replay', async () => {
    const D = 'acc_portal_double';
    const made = await call(api.url, 'POST', `/v1/accounts/${D}/webhooks`, { token: key, body: { id: 'wh_double', name: 'Twice', events: ['call.created'], url: `${receiver.url}/double` } });
    assert.equal(made.status, 201, made.text);
    const tested = await call(api.url, 'POST', `/v1/accounts/${D}/webhooks/wh_double/test`, { token: key, body: {} });
    assert.equal(tested.status, 201, tested.text);
    /** The portal at `link`, every write of it answered slowly: a second click lands while the first is in flight. */
    const slowly = async (link: string) => {
      const { page, apiCalls } = await open(link);
      await page.route((url) => url.pathname.startsWith(`/v1/accounts/${D}/`), async (route) => {
        if (route.request().method() !== 'GET') await new Promise((resolve) => setTimeout(resolve, 800));
        await route.continue();
      });
      const writes = (method: string, path: RegExp) => apiCalls.filter((item) => item.startsWith(`${method} `) && path.test(item.slice(method.length + 1))).length;
      return { page, writes };
    };
    const { page, writes } = await slowly(await portalLink(D));

    await page.getByRole('button', { name: 'Duplicate Twice' }).dblclick();
    await page.getByRole('link', { name: 'Twice (copy)' }).waitFor();
    assert.equal(writes('POST', /^\/v1\/accounts\/[^/]+\/webhooks$/), 1, 'one POST');
    assert.equal((await call(api.url, 'GET', `/v1/accounts/${D}/webhooks`, { token: key })).json.data.length, 2, 'one copy');

    await page.getByRole('link', { name: 'Twice', exact: true }).click();
    await page.getByLabel('Name', { exact: true }).fill('Twice renamed');
    await page.getByRole('button', { name: 'Save', exact: true }).dblclick();
    await page.getByText(/^Saved at/).waitFor();
    await page.waitForTimeout(1200); // a second PATCH, were one sent, would be answered by now
    assert.equal(writes('PATCH', /\/webhooks\/wh_double$/), 1, 'one PATCH');
    assert.equal(await page.getByText(/Someone changed this webhook/).count(), 0);

    await page.close();

    const deliveries = await slowly(`${await portalLink(D)}&page=${encodeURIComponent(`/deliveries/wh_double/${tested.json.eventId as string}`)}`);
    await deliveries.page.getByRole('heading', { name: /^Delivery .*: succeeded$/ }).waitFor();
    await deliveries.page.getByRole('button', { name: 'Replay' }).dblclick();
    await deliveries.page.getByText(/^Replay of .* started\./).waitFor();
    await deliveries.page.waitForTimeout(1200);
    assert.equal(deliveries.writes('POST', /\/replay$/), 1, 'one replay');
    assert.equal(await deliveries.page.locator('main [role=alert]').filter({ hasText: /./ }).count(), 0, 'no refusal of a second replay');
    // The replay goes out: waited for here, so that no later test counts it as its own request.
    await until('the replay delivered', async () => ((await call(api.url, 'GET', `/v1/accounts/${D}/webhooks/wh_double/deliveries/${tested.json.eventId as string}`, { token: key })).json?.attempts?.length === 2 ? true : undefined));
    await deliveries.page.close();
  });

  it('scaffold from a receiver\'s curl example, create it, and deliver it', async () => {
    const { page } = await open(await portalLink(A));
    await page.getByRole('link', { name: 'Scaffold' }).click();
    const example = readFileSync(new URL('../fixtures/scaffold/salesforce-lead.sh', import.meta.url), 'utf8').replace('https://MyDomainName.my.salesforce.com', receiver.url);
    await page.getByLabel('Event type').selectOption('call.created');
    await page.getByLabel('Example request').fill(example);
    await page.getByRole('button', { name: 'Build template' }).click();
    await page.getByText('4 fields take variables, 3 stay as written.').waitFor();
    await accessible(page, 'scaffold');
    await page.getByRole('button', { name: 'Create webhook' }).click();
    await page.getByRole('heading', { name: /^Edit call\.created to / }).waitFor({ timeout: 10_000 }).catch(async (error: Error) => assert.fail(`${error.message}\n${await page.locator('main').textContent()}`));
    const before = receiver.requests.length;
    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByRole('heading', { name: /^Test: / }).waitFor();
    const [, delivered] = [before, receiver.requests.at(-1)!];
    assert.equal(delivered.url, '/services/data/v62.0/sobjects/Lead/');
    assert.equal(delivered.headers.authorization, 'Bearer tok-portal');
    assert.equal(JSON.parse(delivered.body).FirstName, 'Maria');
    await safe(page);
    await page.close();
  });

  it('previews the unsaved draft as it is typed: against the sample, custom data, and a recent real event of the account', async () => {
    // A real event in the account's log, with data of its own.
    const made = await call(api.url, 'POST', `/v1/accounts/${A}/webhooks`, { token: key, body: { id: 'wh_recent', name: 'Recent source', events: ['call.created'], url: `${receiver.url}/recent` } });
    assert.equal(made.status, 201, made.text);
    const sample = eventTypeSample('call.created');
    const tested = await call(api.url, 'POST', `/v1/accounts/${A}/webhooks/wh_recent/test`, { token: key, body: { data: { ...sample, call: { ...(sample.call as object), id: 'from-a-real-event' } } } });
    assert.equal(tested.status, 201, tested.text);
    const realEvent = tested.json.eventId as string;

    const { page, apiCalls } = await open(await portalLink(A));
    await page.getByRole('link', { name: 'Create webhook' }).click();
    await page.getByRole('heading', { name: 'New webhook' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Draft only');
    await page.getByLabel('Event types').selectOption('call.created');
    await page.getByLabel('URL template').fill(`${receiver.url}/draft/{{ data.call.id }}`);
    await page.locator('.cm-content').click();
    await page.keyboard.type('{"id": "{{ data.call.id }}", "hook": "{{ webhook.id }}"}');
    await page.locator('#preview', { hasText: `POST ${receiver.url}/draft/call_8GkT2pXq` }).waitFor();
    await page.locator('#preview', { hasText: '{"id": "call_8GkT2pXq", "hook": "wh_draft"}' }).waitFor();
    await page.locator('#preview-status', { hasText: 'Rendered against the call.created sample.' }).waitFor();

    await page.getByLabel('Custom data', { exact: true }).check();
    const data = page.getByLabel("Custom data (the event's data, JSON)");
    assert.match(await data.inputValue(), /call_8GkT2pXq/, 'custom data starts from the sample');
    await data.fill('{"call": {"id": "typed-by-hand"}}');
    await page.locator('#preview', { hasText: `${receiver.url}/draft/typed-by-hand` }).waitFor();
    await page.locator('#preview-status', { hasText: 'Rendered against your data as call.created.' }).waitFor();
    await data.fill('{"call": ');
    await page.getByText('Write the event\'s data as a JSON object').waitFor();

    await page.getByLabel('A recent event').check();
    const recent = page.getByLabel('Recent event', { exact: true });
    await recent.locator(`option[value="${realEvent}"]`).waitFor({ state: 'attached' });
    assert.match(await recent.locator(`option[value="${realEvent}"]`).textContent() ?? '', new RegExp(`^call\\.created · ${realEvent} · `));
    await recent.selectOption(realEvent);
    await page.locator('#preview', { hasText: `${receiver.url}/draft/from-a-real-event` }).waitFor();
    await page.locator('#preview-status', { hasText: `Rendered against event ${realEvent} (call.created).` }).waitFor();
    assert.ok(apiCalls.includes(`POST /v1/accounts/${A}/webhooks/preview`), 'the draft preview route');
    assert.ok(!apiCalls.includes(`POST /v1/accounts/${A}/webhooks`), 'nothing was saved');
    await safe(page);
    await accessible(page, 'editor-preview');
    await page.close();
  });

  it('shows the checks of the draft under their fields as it is typed: an unknown variable with "did you mean", a template error, with line and column', async () => {
    const { page } = await open(await portalLink(A));
    await page.getByRole('link', { name: 'Create webhook' }).click();
    await page.getByRole('heading', { name: 'New webhook' }).waitFor();
    await page.getByLabel('Event types').selectOption('call.created');
    await page.getByLabel('URL template').fill(`${receiver.url}/checks`);
    assert.equal(await page.locator('#name-check').textContent(), '', 'an untouched empty name is not flagged yet');
    await page.locator('.cm-content').click();
    await page.keyboard.type('{"seconds": {{ data.call.durationSecond }}}');
    const bodyCheck = page.locator('#body-check');
    await bodyCheck.getByText(/^Warning: .*data\.call\.durationSecond is not a variable of call\.created.*\(did you mean data\.call\.durationSeconds\?\)/).waitFor();
    assert.match(await bodyCheck.textContent() ?? '', /line 1, column 16/);
    // Announced: the editable element (in CodeMirror's shadow root) is described by the body's findings.
    await describedAs(page, 'textbox', 'Body template', /did you mean data\.call\.durationSeconds\?/);
    assert.equal(await bodyCheck.getAttribute('aria-live'), 'polite', 'and the findings are a live region');
    await page.getByLabel('Headers', { exact: false }).fill('X-Agent: {{ data.agent.emial }}');
    await page.locator('#headers-check', { hasText: /Warning: headers\.X-Agent.*did you mean data\.agent\.email\?/ }).waitFor();
    // Fixed: the warning goes.
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.type('s');
    await page.locator('#preview', { hasText: '{"seconds": 805}' }).waitFor();
    assert.equal(await bodyCheck.textContent(), '');
    // A template error, before any save, where the dispatcher would put it.
    await page.keyboard.press('Control+End');
    await page.keyboard.type(' {{ data.call.id | nope }}');
    await bodyCheck.getByText(/^Error: body: template error at line 1, column \d+: .*nope/).waitFor();
    await page.locator('#preview-status', { hasText: /^Not rendered: / }).waitFor();
    await safe(page);
    await accessible(page, 'editor-checks');
    await page.close();
  });

  it('editing a webhook made through the API keeps every field the editor does not show, and its other events', async () => {
    const document = {
      id: 'wh_keep',
      name: 'Keep everything',
      events: ['call.created', 'queue.abandoned'],
      method: 'PUT',
      url: `${receiver.url}/keep/{{ event.id }}`,
      query: { source: 'hookshape', call: '{{ data.call.id }}' },
      headers: { 'X-Team': 'sales' },
      format: 'json',
      body: '{"id": "{{ event.id }}"}',
      backupUrl: `${receiver.url}/keep-backup`,
      timeoutSeconds: 7,
      filter: { 'event.type': { $in: ['call.created', 'queue.abandoned'] } },
      retry: { attempts: 3, retryOn: [408, '5xx'] },
      auth: { type: 'bearer', tokenSecretName: 'RECEIVER_TOKEN' },
      rateLimit: { perSecond: 5 },
      traceparent: true,
      signingSecretName: 'SIGNING_KEEP',
    };
    const created = await call(api.url, 'POST', `/v1/accounts/${A}/webhooks`, { token: key, body: document });
    assert.equal(created.status, 201, created.text);
    const { page } = await open(await portalLink(A));
    await page.getByRole('link', { name: 'Keep everything' }).click();
    await page.getByRole('heading', { name: 'Edit Keep everything' }).waitFor();
    const events = page.getByLabel('Event types');
    assert.deepEqual(await events.evaluate((select: HTMLSelectElement) => Array.from(select.selectedOptions, (option) => option.value).sort()), ['call.created', 'queue.abandoned'], 'every event of the webhook is selected');
    assert.equal(await page.getByLabel('Query parameters', { exact: false }).inputValue(), 'source=hookshape\ncall={{ data.call.id }}');
    await page.getByLabel('Name', { exact: true }).fill('Kept and renamed');
    await events.selectOption(['call.created', 'queue.abandoned', 'user.created']);
    await page.locator('.cm-content').click();
    await page.keyboard.press('Control+End');
    await page.keyboard.press('ArrowLeft');
    await page.keyboard.type(', "kind": "{{ event.type }}"');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/^Saved at/).waitFor({ timeout: 10_000 }).catch(async (error: Error) => assert.fail(`${error.message}\n${await page.locator('main').textContent()}`));
    const after = (await call(api.url, 'GET', `/v1/accounts/${A}/webhooks/wh_keep`, { token: key })).json;
    assert.equal(after.name, 'Kept and renamed');
    assert.deepEqual(after.events, ['call.created', 'queue.abandoned', 'user.created']);
    assert.equal(after.body, '{"id": "{{ event.id }}", "kind": "{{ event.type }}"}');
    for (const field of ['method', 'url', 'query', 'headers', 'format', 'backupUrl', 'timeoutSeconds', 'filter', 'retry', 'auth', 'rateLimit', 'traceparent', 'signingSecretName'] as const) {
      assert.deepEqual(after[field], document[field], `${field} is kept`);
    }
    await safe(page);
    await page.close();
  });

  it('edits the delivery rules: a filter, a rate limit and bearer auth set through the UI are saved; a rule removed is gone from the document', async () => {
    const made = await call(api.url, 'POST', `/v1/accounts/${A}/webhooks`, { token: key, body: { id: 'wh_rules', name: 'Rules through the UI', events: ['call.created'], url: `${receiver.url}/rules`, body: '{"id": "{{ data.call.id }}"}' } });
    assert.equal(made.status, 201, made.text);
    const { page } = await open(await portalLink(A));
    await page.getByRole('link', { name: 'Rules through the UI' }).click();
    await page.getByRole('heading', { name: 'Edit Rules through the UI' }).waitFor();
    await page.getByText('None set: every event is sent', { exact: false }).waitFor();

    // A disclosure, opened from the keyboard.
    const toggle = page.getByRole('button', { name: 'Delivery rules' });
    assert.equal(await toggle.getAttribute('aria-expanded'), 'false');
    assert.equal(await page.getByLabel('Filter (JSON)').isVisible(), false, 'collapsed at first');
    await toggle.focus();
    await page.keyboard.press('Enter');
    assert.equal(await toggle.getAttribute('aria-expanded'), 'true');
    const filter = page.getByLabel('Filter (JSON)');
    assert.equal(await filter.getAttribute('placeholder'), '{"data.call.durationSeconds": {"$gt": 60}}', 'an example to start from');
    await filter.fill('{"data.call.durationSeconds": {"$gt": 60}}');
    await page.getByLabel('Requests per second').fill('5');
    await page.getByLabel('Authentication', { exact: true }).selectOption('bearer');
    await page.getByLabel('Token secret name').fill('RECEIVER_TOKEN');
    assert.match(await page.getByText("write the secret's name", { exact: false }).textContent() ?? '', /never its value/, 'the help says names, not values');
    // The preview renders the draft with its rules: the filter's verdict, the credential by name.
    await page.locator('#preview', { hasText: 'Authorization: Bearer [secret:RECEIVER_TOKEN]' }).waitFor();
    await page.locator('#preview-status', { hasText: 'The filter lets it through' }).waitFor();
    await page.locator('#filter-verdict', { hasText: /^With the call\.created sample: the filter lets it through/ }).waitFor();
    await filter.fill('{"data.call.durationSeconds": {"$gt": 1000}}');
    await page.locator('#preview-status', { hasText: 'The filter stops it: not sent' }).waitFor();
    await page.locator('#filter-verdict', { hasText: 'the filter stops it' }).waitFor();
    await filter.fill('{"data.call.durationSeconds": {"$gt": 60}}');
    await page.locator('#filter-verdict', { hasText: 'the filter lets it through' }).waitFor();
    await accessible(page, 'editor-rules');

    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/^Saved at/).waitFor({ timeout: 10_000 }).catch(async (error: Error) => assert.fail(`${error.message}\n${await page.locator('main').textContent()}`));
    const stored = (await call(api.url, 'GET', `/v1/accounts/${A}/webhooks/wh_rules`, { token: key })).json;
    assert.deepEqual(stored.filter, { 'data.call.durationSeconds': { $gt: 60 } });
    assert.deepEqual(stored.rateLimit, { perSecond: 5 });
    assert.deepEqual(stored.auth, { type: 'bearer', tokenSecretName: 'RECEIVER_TOKEN' });
    assert.equal(stored.retry, undefined, 'a rule left empty is not written');
    await page.getByText('Set: filter, rate limit, authentication.').waitFor();

    // Removed: the rate limit emptied and the auth back to None; the fields go, the filter stays.
    await page.getByLabel('Requests per second').fill('');
    await page.getByLabel('Authentication', { exact: true }).selectOption('');
    assert.equal(await page.getByLabel('Token secret name').isVisible(), false, "the bearer's field goes with its type");
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText('Set: filter.').waitFor();
    await until('the rules removed from the document', async () => {
      const after = (await call(api.url, 'GET', `/v1/accounts/${A}/webhooks/wh_rules`, { token: key })).json;
      return !('rateLimit' in after) && !('auth' in after) ? after : undefined;
    }).then((after) => assert.deepEqual(after.filter, { 'data.call.durationSeconds': { $gt: 60 } }));
    await page.reload();
    await page.getByRole('heading', { name: 'Edit Rules through the UI' }).waitFor();
    await page.getByText('Set: filter.').waitFor();
    await safe(page);
    await page.close();
  });

  it("shows a delivery rule's errors next to its control, by path: an unknown filter operator (did you mean $gt), retry.attempts", async () => {
    const made = await call(api.url, 'POST', `/v1/accounts/${A}/webhooks`, { token: key, body: { id: 'wh_rules_bad', name: 'Rules with mistakes', events: ['call.created'], url: `${receiver.url}/rules-bad`, filter: { 'data.call.durationSeconds': { $gt: 60 } } } });
    assert.equal(made.status, 201, made.text);
    const { page } = await open(await portalLink(A));
    await page.getByRole('link', { name: 'Rules with mistakes' }).click();
    await page.getByRole('heading', { name: 'Edit Rules with mistakes' }).waitFor();
    await page.getByRole('button', { name: 'Delivery rules' }).click();
    const filter = page.getByLabel('Filter (JSON)');
    assert.deepEqual(JSON.parse(await filter.inputValue()), { 'data.call.durationSeconds': { $gt: 60 } }, 'the stored filter is shown');

    // As it is typed: the draft's check under the filter, naming the path, and describing the control.
    await filter.fill('{"data.call.durationSeconds": {"$gtt": 60}}');
    const filterCheck = page.locator('#filter-check');
    await filterCheck.getByText(/^Error: filter\.data\.call\.durationSeconds\.\$gtt: \$gtt is not an operator \(did you mean \$gt\?\)/).waitFor();
    await describedAs(page, 'textbox', 'Filter (JSON)', /filter\.data\.call\.durationSeconds\.\$gtt.*did you mean \$gt\?/);
    assert.equal(await page.locator('#draft-checks').textContent(), '', 'not under the form');
    await accessible(page, 'editor-rules-errors');
    // Saved anyway: the API's refusal, under the same control.
    await page.getByRole('button', { name: 'Save' }).click();
    const filterError = page.getByRole('alert').filter({ hasText: 'filter.data.call.durationSeconds.$gtt' });
    await filterError.waitFor();
    assert.match(await filterError.textContent() ?? '', /did you mean \$gt\?/);
    assert.equal(await filterError.getAttribute('id'), `${await filter.getAttribute('id')}-error`, 'the filter\'s own error slot');

    // A mistake in a field of a rule goes under that field, not the rule's other controls.
    await filter.fill('{"data.call.durationSeconds": {"$gt": 60}}');
    const attempts = page.getByLabel('Retries after the first attempt');
    await attempts.fill('11');
    await page.locator('#retry-attempts-check', { hasText: /retry\.attempts.*at most 10/ }).waitFor();
    assert.equal(await filterCheck.textContent(), '', 'the fixed filter has no finding');
    await page.getByRole('button', { name: 'Save' }).click();
    await page.locator(`#${await attempts.getAttribute('id')}-error`, { hasText: 'must be at most 10' }).waitFor();
    assert.equal(await filterError.count(), 0, "the filter's error is gone");
    // JSON that does not parse is said at once, and nothing is sent.
    await filter.fill('{"data.call.durationSeconds": ');
    await page.getByRole('alert').filter({ hasText: /^filter: is not JSON/ }).waitFor();
    await page.locator('#preview-status', { hasText: /^Not previewed: filter is not JSON/ }).waitFor();
    const unchanged = (await call(api.url, 'GET', `/v1/accounts/${A}/webhooks/wh_rules_bad`, { token: key })).json;
    assert.deepEqual([unchanged.filter, unchanged.retry], [{ 'data.call.durationSeconds': { $gt: 60 } }, undefined], 'nothing refused was written');
    await safe(page);
    await page.close();
  });

  it("opens the pages that operational events link to (data.portalPath), in the tab's session or from a magic link's page=", async () => {
    const made = await call(api.url, 'POST', `/v1/accounts/${A}/webhooks`, { token: key, body: { id: 'wh_ops', name: 'Ops link', events: ['call.created'], url: `${receiver.url}/ops` } });
    assert.equal(made.status, 201, made.text);
    const tested = await call(api.url, 'POST', `/v1/accounts/${A}/webhooks/wh_ops/test`, { token: key, body: {} });
    assert.equal(tested.status, 201, tested.text);
    const eventId = tested.json.eventId as string;
    const { page } = await open(await portalLink(A));
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();

    await page.goto(`${api.url}${portalPath.delivery('wh_ops', eventId)}`);
    await page.getByRole('heading', { name: `Delivery ${eventId}: succeeded` }).waitFor();
    assert.equal(await page.getByLabel('Webhook', { exact: true }).inputValue(), 'wh_ops', 'the list is filtered to the webhook');
    await safe(page);

    await page.goto(`${api.url}${portalPath.event(eventId)}`);
    await page.getByRole('heading', { name: `Event ${eventId}` }).waitFor();
    await page.getByRole('button', { name: /^succeeded · Ops link · / }).click();
    await page.getByRole('heading', { name: `Delivery ${eventId}: succeeded` }).waitFor();
    await page.goto(`${api.url}${portalPath.event('evt_never_seen')}`);
    await page.getByText('No webhook of this account has a delivery of event evt_never_seen.', { exact: false }).waitFor();

    assert.equal((await call(api.url, 'POST', `/v1/accounts/${A}/webhooks/wh_ops/disable`, { token: key })).status, 200);
    await page.goto(`${api.url}${portalPath.webhook('wh_ops')}`);
    await page.getByRole('heading', { name: 'Edit Ops link' }).waitFor();
    assert.match(await page.locator('#webhook-state').textContent() ?? '', /^Disabled/);
    await page.close();

    // A fresh tab: the magic link itself carries the page to open.
    const linked = await open(`${await portalLink(A)}&page=${encodeURIComponent(`/deliveries/wh_ops/${eventId}`)}`);
    await linked.page.getByRole('heading', { name: `Delivery ${eventId}: succeeded` }).waitFor();
    assert.equal(new URL(linked.page.url()).hash, `#/deliveries/wh_ops/${eventId}`, 'the token is gone from the address');
    const other = await open(`${await portalLink(A)}&page=${encodeURIComponent('javascript:alert(1)')}`);
    await other.page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    assert.equal(new URL(other.page.url()).hash, '#/webhooks', 'a page= that is not a route of the portal opens the webhooks list');
    await safe(linked.page);
    await linked.page.close();
    await other.page.close();
  });

  it('creates a webhook with the keyboard alone: Tab, arrows, typing, Enter', async () => {
    const K = 'acc_portal_keyboard';
    const { page } = await open(await portalLink(K));
    await page.getByRole('heading', { name: 'No webhooks yet' }).waitFor();
    /** The focused element, through shadow roots: its tag and label (or text). */
    const focused = () =>
      page.evaluate(() => {
        let element: Element | null = document.activeElement;
        while (element?.shadowRoot?.activeElement) element = element.shadowRoot.activeElement;
        if (!element) return '';
        const label = (element as HTMLInputElement).labels?.[0]?.textContent ?? element.getAttribute('aria-label') ?? element.textContent ?? '';
        return `${element.tagName.toLowerCase()}:${label.trim()}`;
      });
    const tabTo = async (wanted: string, back = false) => {
      const seen: string[] = [];
      for (let presses = 0; presses < 80; presses++) {
        await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
        const now = await focused();
        if (now === wanted) return;
        seen.push(now);
      }
      assert.fail(`${wanted} is not reachable with ${back ? 'Shift+Tab' : 'Tab'}; focus went through ${seen.join(' → ')}`);
    };
    const arrowTo = async (select: string, value: string) => {
      const seen: string[] = [];
      let key = 'ArrowDown';
      let last = '';
      for (let presses = 0; presses < 160; presses++) {
        const values = await page.evaluate(() => Array.from((document.activeElement as HTMLSelectElement).selectedOptions ?? [], (option) => option.value));
        if (values.length === 1 && values[0] === value) return;
        // Down to the last option, then up.
        if (values.join('+') === last) key = 'ArrowUp';
        last = values.join('+');
        seen.push(`${await focused()}=${last}`);
        await page.keyboard.press(key);
      }
      assert.fail(`${value} cannot be chosen with the arrow keys in ${select}: ${[...new Set(seen)].join(', ')}`);
    };

    await tabTo('a:Create webhook');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'New webhook' }).waitFor();
    await tabTo('input:Name');
    await page.keyboard.type('Typed, not clicked');
    await tabTo('select:Event types (choose one or more)');
    await arrowTo('the event types', 'call.created');
    await tabTo('input:URL template');
    await page.keyboard.type(`${receiver.url}/keyboard/{{ data.call.id }}`);
    await tabTo('div:Body template');
    await page.keyboard.type('{"seconds": }');
    await page.keyboard.press('ArrowLeft');
    await tabTo('select:Variable', true);
    await arrowTo('the variable picker', 'data.call.durationSeconds');
    await tabTo('button:Insert variable');
    await page.keyboard.press('Enter');
    assert.equal(await focused(), 'div:Body template', 'the variable is inserted where the cursor was, and the editor has the focus back');
    await page.locator('#preview', { hasText: `${receiver.url}/keyboard/call_8GkT2pXq` }).waitFor();
    await tabTo('button:Save');
    await page.keyboard.press('Enter');
    await page.getByText(/^Saved at/).waitFor({ timeout: 10_000 }).catch(async (error: Error) => assert.fail(`${error.message}\n${await page.locator('main').textContent()}`));
    const { json } = await call(api.url, 'GET', `/v1/accounts/${K}/webhooks`, { token: key });
    assert.equal(json.data.length, 1);
    const [made] = json.data;
    assert.deepEqual([made.name, made.events, made.url, made.body], ['Typed, not clicked', ['call.created'], `${receiver.url}/keyboard/{{ data.call.id }}`, '{"seconds": {{ data.call.durationSeconds | json }}}']);
    await safe(page);
    await page.close();
  });

  it('script injection matrix: markup from outside (receiver answers, event data, webhook fields and states written in the console, link routes, pasted examples, checks of the draft) is text in every place the portal shows it', async () => {
    const X = 'acc_portal_xss';
    // An inline handler and a script: run, or refused by the CSP (a violation), either fails the test.
    const MARK = `<img src=x onerror='window.__pwned=(window.__pwned||0)+1'><script>window.__pwned=1</script>`;
    const shown = MARK.slice(0, 30);
    const made = await call(api.url, 'POST', `/v1/accounts/${X}/webhooks`, { token: key, body: { id: 'wh_xss', name: `Named ${MARK}`, events: ['call.created'], url: `${receiver.url}/xss`, headers: { 'X-Mark': MARK }, body: '{"id": {{ data.call.id | json }}}', filter: { 'data.call.id': { $neq: 'x' } } } });
    assert.equal(made.status, 201, made.text);
    const sample = eventTypeSample('call.created');
    const tested = await call(api.url, 'POST', `/v1/accounts/${X}/webhooks/wh_xss/test`, { token: key, body: { data: { ...sample, call: { ...(sample.call as object), id: MARK } } } });
    assert.equal(tested.status, 201, tested.text);
    const eventId = tested.json.eventId as string;
    // Written in the Firestore console, disabled by hookshape with a reason quoting a receiver.
    await db.doc(webhookPath(X, 'wh_xss_off')).set({ name: `Off ${MARK}`, events: ['call.created'], url: `${receiver.url}/off`, enabled: false, disabled: { reason: `the receiver said ${MARK}`, at: new Date(), consecutiveFailures: 5 } });

    const { page } = await open(await portalLink(X));
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    const places: Array<{ place: string; hash: string; heading: string | RegExp; then?: () => Promise<void>; texts: string[] }> = [
      { place: 'webhooks list: names, the disabled reason', hash: '#/webhooks', heading: 'Webhooks', texts: [`Named ${shown}`, `the receiver said ${shown}`] },
      { place: "editor: the name, the stored header, the preview of a recent event's data", hash: '#/editor/wh_xss', heading: /^Edit Named /, texts: [`Edit Named ${shown}`], then: async () => {
        await page.getByLabel('A recent event').check();
        await page.getByLabel('Recent event', { exact: true }).locator(`option[value="${eventId}"]`).waitFor({ state: 'attached' });
        await page.getByLabel('Recent event', { exact: true }).selectOption(eventId);
        await page.locator('#preview', { hasText: `X-Mark: ${shown}` }).waitFor();
        await page.locator('#preview', { hasText: `{"id": "${shown}` }).waitFor();
      } },
      { place: "editor: a console-written webhook's disabled state", hash: '#/webhooks/wh_xss_off', heading: /^Edit Off /, texts: [`the receiver said ${shown}`] },
      { place: "editor: a check quoting the draft (a header's name)", hash: '#/editor/new', heading: 'New webhook', texts: [], then: async () => {
        await page.getByLabel('Event types').selectOption('call.created');
        await page.getByLabel('URL template').fill(`${receiver.url}/x`);
        await page.getByLabel('Headers', { exact: false }).fill(`${MARK}: v`);
        await page.locator('#headers-check', { hasText: /\S/ }).waitFor();
        const check = (await page.locator('#headers-check').textContent()) ?? '';
        assert.ok(check.includes('<img'), `the finding quotes the markup: ${check}`);
      } },
      { place: 'a delivery: the request from event data, the answer', hash: `#/deliveries/wh_xss/${eventId}`, heading: 'Deliveries', texts: [`{"id": "${shown}`, `x-evil: <script>`] },
      { place: "an event's deliveries", hash: `#/events/${eventId}`, heading: `Event ${eventId}`, texts: [], then: async () => {
        await page.getByRole('button', { name: /^succeeded · Named / }).click();
        await page.getByRole('heading', { name: `Delivery ${eventId}: succeeded` }).waitFor();
      } },
      { place: 'a link route naming an event', hash: `#/events/${encodeURIComponent(MARK)}`, heading: /^Event <img/, texts: [`delivery of event ${shown}`] },
      { place: 'a link route naming a delivery', hash: `#/deliveries/wh_xss/${encodeURIComponent(MARK)}`, heading: 'Deliveries', texts: [`event ${shown}`] },
      { place: 'a link route naming a webhook', hash: `#/webhooks/${encodeURIComponent(MARK)}`, heading: '', texts: [] },
      { place: 'deliveries: the webhook filter', hash: '#/deliveries', heading: 'Deliveries', texts: [], then: async () => {
        assert.ok((await page.getByLabel('Webhook', { exact: true }).textContent())?.includes(`Named ${shown}`));
      } },
      { place: 'secrets: the webhook choice', hash: '#/secrets', heading: 'Signing secret', texts: [], then: async () => {
        await page.getByRole('heading', { name: 'Signing secret' }).waitFor();
        assert.ok((await page.locator('main select').first().textContent())?.includes(`Named ${shown}`));
      } },
      { place: 'scaffold: what stayed literal from a pasted example', hash: '#/scaffold', heading: 'Create from an example', texts: [], then: async () => {
        await page.getByLabel('Event type').selectOption('call.created');
        await page.getByLabel('Example request').fill(JSON.stringify({ note: MARK, id: 'c1' }));
        await page.getByRole('button', { name: 'Build template' }).click();
        await page.locator('main .unmatched', { hasText: shown }).waitFor();
      } },
    ];
    const failures: string[] = [];
    for (const { place, hash, heading, then, texts } of places) {
      try {
        await go(page, hash);
        // The page of this route, not the one before: its heading, or (no such webhook) its refusal.
        if (heading) await page.getByRole('heading', { name: heading }).first().waitFor();
        else await page.locator('main [role=alert]', { hasText: /./ }).waitFor();
        for (const text of texts) await page.locator('main', { hasText: text }).waitFor({ timeout: 10_000 });
        await then?.();
        await page.waitForTimeout(300);
        assert.equal(await page.locator('main img, main script, body > img').count(), 0, 'no element made from the markup');
        await safe(page);
      } catch (error) {
        failures.push(`${place}: ${(error as Error).message.split('\n')[0]}`);
        await page.evaluate(() => { (window as unknown as { __csp: string[] }).__csp = []; delete (window as unknown as { __pwned?: number }).__pwned; });
      }
    }
    assert.deepEqual(failures, []);
    await page.close();
  });

  it('script injection, the other places: a URL, event types, a template in the code editor, query lines, rules and a failed check written in the console, a filter verdict quoting event data, recent events, an attempt\'s summary and error, a delete confirmation, an example\'s keys', async () => {
    const Y = 'acc_portal_xss_more';
    // No `/`: it may also be a Firestore field value anywhere (and a document id is not needed).
    const MARK = `<img src=x onerror='window.__pwned=(window.__pwned||0)+1'><svg onload='window.__pwned=1'></svg><script>window.__pwned=1</script>`;
    const shown = MARK.slice(0, 30);
    const made = await call(api.url, 'POST', `/v1/accounts/${Y}/webhooks`, {
      token: key,
      body: { id: 'wh_more', name: 'More places', events: ['call.created'], url: `${receiver.url}/more`, query: { note: MARK }, body: `{"note": "</textarea></pre>${MARK}", "id": {{ data.call.id | json }}}`, filter: { 'data.call.id': { $neq: 'x' } } },
    });
    assert.equal(made.status, 201, made.text);
    // Written in the Firestore console: nothing validated it.
    await db.doc(webhookPath(Y, 'wh_console')).set({
      name: `Console ${MARK}`,
      events: ['call.created', `custom.${MARK}`],
      url: `https://example.com/${MARK}`,
      retry: { schedule: MARK },
      auth: { type: MARK },
      enabled: true,
      validation: { ok: false, errors: [{ field: 'body', message: `quoted ${MARK}`, line: 1, column: 1 }], warnings: [], checkedAt: new Date(), configHash: 'console' },
    });
    // A delivery record whose attempts quote the receiver: a summary and a network error's message.
    const tested = await call(api.url, 'POST', `/v1/accounts/${Y}/webhooks/wh_more/test`, { token: key, body: {} });
    assert.equal(tested.status, 201, tested.text);
    const record = (await db.doc(deliveryPath(Y, 'wh_more', tested.json.eventId as string)).get()).data()!;
    const [first] = record.attempts as Array<Record<string, unknown>>;
    const { response: _response, ...noResponse } = first!;
    await db.doc(deliveryPath(Y, 'wh_more', 'evt_hostile_copy')).set({
      ...record,
      eventId: 'evt_hostile_copy',
      eventType: `call.${MARK}`,
      attempts: [{ ...first, summary: `HTTP 200 ${MARK}` }, { ...noResponse, number: 2, outcome: 'retryable', summary: `ECONNRESET ${MARK}`, error: { code: 'ECONNRESET', message: `socket hang up ${MARK}` } }],
    });

    const { page } = await open(await portalLink(Y));
    await page.getByRole('heading', { name: 'Webhooks' }).waitFor();
    const places: Array<{ place: string; hash: string; heading: string | RegExp; then?: () => Promise<void>; texts: string[] }> = [
      { place: 'webhooks list: a URL and event types written in the console; a delete confirmation naming the webhook', hash: '#/webhooks', heading: 'Webhooks', texts: [`https://example.com/${shown}`, `custom.${shown}`], then: async () => {
        const dialog = page.waitForEvent('dialog');
        void page.getByRole('button', { name: /^Delete Console / }).click();
        const shownDialog = await dialog;
        assert.ok(shownDialog.message().includes(MARK), `the confirmation quotes the name as text: ${shownDialog.message()}`);
        await shownDialog.dismiss();
      } },
      { place: 'editor: a failed check, an event type, a retry schedule and an auth type written in the console', hash: '#/webhooks/wh_console', heading: /^Edit Console /, texts: [`Its last check failed: quoted ${shown}`], then: async () => {
        assert.ok((await page.getByLabel('Event types').textContent())?.includes(`custom.${shown}`));
        await page.getByRole('button', { name: 'Delivery rules' }).click();
        assert.ok((await page.getByLabel('Retry schedule').textContent())?.includes(`${shown}`));
        assert.ok((await page.getByLabel('Authentication', { exact: true }).textContent())?.includes(`${shown}`));
      } },
      { place: 'editor: a template with markup in the code editor, query lines, a filter verdict and the preview quoting event data, recent events', hash: '#/editor/wh_more', heading: 'Edit More places', texts: [], then: async () => {
        await page.locator('.cm-content', { hasText: shown }).waitFor();
        assert.ok((await page.getByLabel('Query parameters', { exact: false }).inputValue()).includes(MARK));
        await page.getByLabel('Custom data', { exact: true }).check();
        await page.getByLabel("Custom data (the event's data, JSON)").fill(JSON.stringify({ call: { id: MARK } }));
        await page.locator('#preview', { hasText: `"id": "${shown}` }).waitFor();
        await page.getByRole('button', { name: 'Delivery rules' }).click();
        await page.locator('#filter-verdict', { hasText: shown }).waitFor();
        await page.getByLabel('A recent event').check();
        await page.getByLabel('Recent event', { exact: true }).locator('option[value="evt_hostile_copy"]', { hasText: `call.${shown}` }).waitFor({ state: 'attached' });
      } },
      { place: "a delivery: an attempt's summary and its error's message; the list's event type", hash: '#/deliveries/wh_more/evt_hostile_copy', heading: 'Delivery evt_hostile_copy: succeeded', texts: [`HTTP 200 ${shown}`, `ECONNRESET: socket hang up ${shown}`, `call.${shown}`] },
      { place: "scaffold: an example's keys", hash: '#/scaffold', heading: 'Create from an example', texts: [], then: async () => {
        await page.getByLabel('Event type').selectOption('call.created');
        await page.getByLabel('Example request').fill(JSON.stringify({ [MARK]: 'kept', id: 'c1' }));
        await page.getByRole('button', { name: 'Build template' }).click();
        await page.locator('main .unmatched mark', { hasText: shown }).waitFor();
      } },
    ];
    const failures: string[] = [];
    for (const { place, hash, heading, then, texts } of places) {
      try {
        await go(page, hash);
        await page.getByRole('heading', { name: heading }).first().waitFor();
        for (const text of texts) await page.locator('main', { hasText: text }).waitFor({ timeout: 10_000 });
        await then?.();
        await page.waitForTimeout(300);
        // Playwright's CSS locators pierce open shadow roots: CodeMirror's content is searched too.
        assert.equal(await page.locator('main img, main script, main svg, body > img').count(), 0, 'no element made from the markup');
        await safe(page);
      } catch (error) {
        failures.push(`${place}: ${(error as Error).message.split('\n').slice(0, 3).join(' ')}`);
        await page.evaluate(() => { (window as unknown as { __csp: string[] }).__csp = []; delete (window as unknown as { __pwned?: number }).__pwned; });
      }
    }
    assert.deepEqual(failures, []);
    await page.close();
  });
});
