import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import chromium from '@sparticuz/chromium';
import { chromium as playwright, type BrowserContext, type Frame, type Page } from 'playwright-core';
import { type BuiltFunction } from '../../functions/dev/built-function.ts';
import { freePort } from '../../functions/dev/emulators.ts';
import { startLocalApi } from '../../functions/dev/local-api.ts';
import { BUILD_DIR, ROOT } from '../../scripts/build.ts';
import { call } from '../support/api-client.ts';
import { createMemoryLogger, CUSTOMER_SCOPES, CustomerTokens, Firestore, FirestoreApiKeyStore } from '../support/kit.ts';
import { until } from '../support/until.ts';

// The portal embedded in an iframe by a page of another origin (docs/portal.md, "Embedding it in an
// iframe" and "Keeping the session alive: the postMessage protocol"), in a real Chromium against the
// built api function: frame-ancestors lets the configured origin frame it and makes the browser refuse
// any other; the token-request / token exchange is the documented one, driven by the documentation's
// own example page; and every answer the protocol says to ignore is ignored.

const TOKEN_KEY = 'hookshape.portal.token';
const b64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const claims = (token: string) => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as { acc: string; exp: number };
const expiryOf = (token: string) => new Date(claims(token).exp * 1000).toISOString();

/** docs/portal.md's code block (```lang) that contains this text. */
function docBlock(lang: string, containing: string): string {
  const doc = readFileSync(join(ROOT, 'docs', 'portal.md'), 'utf8');
  const blocks = [...doc.matchAll(new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``, 'g'))].map((match) => match[1]!);
  const found = blocks.find((block) => block.includes(containing));
  assert.ok(found, `docs/portal.md has a ${lang} block with ${containing}`);
  return found;
}

/** A web origin of its own (a server on 127.0.0.1 at another port than the API): pages the test sets, and a backend route. */
interface Origin {
  origin: string;
  page(path: string, html: string): void;
  backend(handler: (req: IncomingMessage, res: ServerResponse) => void): void;
  close(): Promise<void>;
}

async function startOrigin(port: number): Promise<Origin> {
  const pages = new Map<string, string>();
  let backend: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => void res.writeHead(404).end();
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/my-backend/webhooks-session') return backend(req, res);
    const html = pages.get(path);
    if (html === undefined) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-store' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${port}`,
    page: (path, html) => void pages.set(path, html),
    backend: (handler) => void (backend = handler),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('the portal embedded in an iframe (build/functions)', () => {
  const projectId = `embed-${randomBytes(4).toString('hex')}`;
  const work = mkdtempSync(join(tmpdir(), 'hookshape-embed-'));
  const keysFile = join(work, 'jwt-keys.json');
  let db: Firestore;
  let api: BuiltFunction;
  let allowed: Origin;
  let refused: Origin;
  let key = '';
  let context: BrowserContext;
  /** Every API call of every page and frame: when, which token. */
  const apiCalls: Array<{ at: number; path: string; token: string }> = [];

  before(async () => {
    assert.ok(existsSync(join(BUILD_DIR, 'portal', 'index.html')), 'build/functions/portal is missing: run npm run build');
    db = new Firestore({ projectId });
    [allowed, refused] = await Promise.all([startOrigin(await freePort()), startOrigin(await freePort())]);
    const env = { GOOGLE_CLOUD_PROJECT: projectId, METADATA_SERVER_DETECTION: 'none', PORTAL_FRAME_ANCESTORS: `${allowed.origin}/` };
    api = await startLocalApi({ env, signingKeysFile: keysFile, port: await freePort() });
    key = (await new FirestoreApiKeyStore(db, createMemoryLogger()).create({ name: 'platform', accountId: null, createdBy: 'test' })).key;
    context = await playwright.launchPersistentContext(mkdtempSync(join(work, 'profile-')), {
      executablePath: await chromium.executablePath(),
      headless: true,
      args: [...chromium.args, '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1100, height: 900 },
    });
    // In the portal's document, before its own scripts: every message it receives (a listener added
    // before the portal's own, so a message recorded here has been through the portal's too).
    await context.addInitScript(() => {
      if (!location.pathname.startsWith('/portal')) return;
      const w = window as unknown as { __received: unknown[] };
      w.__received = [];
      window.addEventListener('message', (event) => w.__received.push({ origin: event.origin, fromParent: event.source === window.parent, data: event.data }));
    });
    context.on('request', (request) => {
      if (!request.url().startsWith(`${api.url}/v1/`)) return;
      const at = Date.now();
      void request.allHeaders().then((headers) => apiCalls.push({ at, path: new URL(request.url()).pathname, token: (headers.authorization ?? '').replace(/^Bearer /, '') }));
    });
  });

  after(async () => {
    await context?.close();
    await api?.stop();
    await Promise.allSettled([allowed?.close(), refused?.close(), db.terminate()]);
    rmSync(work, { recursive: true, force: true });
  });

  /** A portal session minted through the API with the platform key, as the platform's backend does. */
  const mint = async (accountId: string, expiresInSeconds?: number) => {
    const answer = await call(api.url, 'POST', `/v1/accounts/${accountId}/portal-sessions`, { token: key, body: { subject: 'embed-test', ...(expiresInSeconds ? { expiresInSeconds } : {}) } });
    assert.equal(answer.status, 201, answer.text);
    return answer.json as { token: string; url: string; expiresAt: string };
  };
  /**
   * A token shorter-lived than the API mints (at least 60 s), signed with the API's own key document,
   * so a test need not wait a minute for an expiry. `now` fixes iat/exp (two tokens with the same exp).
   */
  const mintShort = async (accountId: string, ttlSeconds: number, now = new Date()) =>
    (await new CustomerTokens({ read: () => readFile(keysFile, 'utf8') }, { now: () => now }).mint({ accountId, subject: 'embed-test', scopes: CUSTOMER_SCOPES, ttlSeconds })).token;
  const webhook = async (accountId: string, name: string) => {
    const made = await call(api.url, 'POST', `/v1/accounts/${accountId}/webhooks`, { token: key, body: { name, events: ['call.created'], url: 'https://receiver.example.com/hook' } });
    assert.equal(made.status, 201, made.text);
  };
  /** The documentation's iframe, pointing at this API with this token and account. */
  const docFrame = (token: string, accountId: string, attributes = '') =>
    docBlock('html', '<iframe id="webhooks"').replace(/src="https:\/\/API\/portal\/#token=[^"]*"/, `src="${api.url}/portal/#token=${encodeURIComponent(token)}&account=${accountId}"${attributes}`);
  /** Records what the portal posts to this page: each message event from the frame. */
  const RECORDER = `<script>
    window.__requests = [];
    window.addEventListener('message', (event) => {
      if (event.source === document.getElementById('webhooks').contentWindow) window.__requests.push({ at: Date.now(), origin: event.origin, data: event.data });
    });
  </script>`;
  const requestsOf = (page: Page) => page.evaluate(() => (window as unknown as { __requests: Array<{ at: number; origin: string; data: Record<string, unknown> }> }).__requests);
  const portalFrame = async (page: Page): Promise<Frame> => until('the portal frame', async () => (await (await page.locator('#webhooks').elementHandle())?.contentFrame()) ?? undefined);
  const storedToken = (frame: Frame) => frame.evaluate((name) => sessionStorage.getItem(name), TOKEN_KEY);

  it('the configured origin frames the portal (with the documented sandbox flags) and it lists webhooks; any other origin is refused by the browser (frame-ancestors)', async () => {
    const account = 'acc_embed_frame';
    await webhook(account, 'Framed webhook');
    const html = async () => `<!doctype html><title>Embedding page</title><h1>Our app</h1>${docFrame((await mint(account)).token, account, ' sandbox="allow-scripts allow-same-origin allow-forms allow-modals"')}`;
    allowed.page('/app.html', await html());
    refused.page('/app.html', await html());

    const page = await context.newPage();
    await page.goto(`${allowed.origin}/app.html`);
    const framed = page.frameLocator('#webhooks');
    await framed.getByRole('link', { name: 'Framed webhook' }).waitFor();
    assert.equal(await framed.getByRole('heading', { name: 'Session expired' }).count(), 0);
    await page.close();

    // The same page from an origin not in PORTAL_FRAME_ANCESTORS.
    const other = await context.newPage();
    const console: string[] = [];
    other.on('console', (message) => console.push(message.text()));
    const portalRequests: string[] = [];
    other.on('request', (request) => void (request.url().startsWith(api.url) && portalRequests.push(new URL(request.url()).pathname)));
    const served = other.waitForResponse((response) => response.url().startsWith(`${api.url}/portal/`));
    await other.goto(`${refused.origin}/app.html`);
    // The API did serve the portal, with a CSP that names only the configured origin as an ancestor...
    const response = await served;
    assert.equal(response.status(), 200);
    const csp = (await response.allHeaders())['content-security-policy'] ?? '';
    assert.match(csp, new RegExp(`(^|; )frame-ancestors ${allowed.origin.replace(/[.:]/g, '\\$&')}(;|$)`), csp);
    assert.ok(!csp.includes(refused.origin), csp);
    // ...and the browser refused to show it: the frame holds Chromium's error page, never the portal.
    const frame = await portalFrame(other);
    await until('the refused frame', () => (frame.url().startsWith(api.url) ? undefined : frame.url()));
    await until('the refusal on the console', () => console.find((text) => /frame-ancestors/.test(text)));
    await sleep(1500);
    assert.ok(!frame.url().startsWith(api.url), frame.url());
    assert.equal(await frame.evaluate(() => document.getElementById('app')).catch(() => null), null, 'no portal document in the frame');
    assert.equal(await other.frameLocator('#webhooks').getByText('Framed webhook').count(), 0);
    assert.deepEqual(portalRequests, ['/portal/'], 'no script of the portal ran: no config.json, no API call');
    await other.close();
  });

  it('asks the embedding page for a fresh token before expiry, as documented; the documentation\'s page answers with one minted through the API; the portal works past the first token\'s expiry', async () => {
    const account = 'acc_embed_refresh';
    await webhook(account, 'Still listed');
    // The platform's backend: mints a session through the API with its key, for the lifetime the test
    // sets, once; meanwhile it fails, so the portal's repeated asking is seen.
    const minted: string[] = [];
    let answerWith: number | undefined;
    allowed.backend((req, res) => {
      const lifetime = answerWith;
      answerWith = undefined;
      if (req.method !== 'POST' || lifetime === undefined) return void res.writeHead(503).end();
      void mint(account, lifetime).then(({ token }) => {
        minted.push(token);
        res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ token }));
      });
    });
    // Under a minute, so the portal asks at once; long enough that the 63 s token is held before it ends on a busy machine.
    const first = await mintShort(account, 40);
    const firstExpiry = claims(first).exp * 1000;
    const example = docBlock('js', "window.addEventListener('message'").replace("const PORTAL_ORIGIN = 'https://API'", `const PORTAL_ORIGIN = '${api.url}'`);
    assert.ok(example.includes(api.url), 'the example names the portal origin where the test can set it');
    allowed.page('/refresh.html', `<!doctype html><title>Embedding page</title>${docFrame(first, account)}${RECORDER}<script>${example}</script>`);

    const page = await context.newPage();
    await page.goto(`${allowed.origin}/refresh.html`);
    const framed = page.frameLocator('#webhooks');
    await framed.getByRole('link', { name: 'Still listed' }).waitFor();
    const frame = await portalFrame(page);

    // Less than a minute left: it asks at once, then every second while unanswered, each time the same.
    const unanswered = await until('three requests', async () => ((await requestsOf(page)).length >= 3 ? requestsOf(page) : undefined));
    for (const request of unanswered) {
      assert.equal(request.origin, api.url);
      assert.deepEqual(request.data, { type: 'hookshape:token-request', accountId: account, expiresAt: expiryOf(first) });
    }
    const gaps = unanswered.slice(1).map((request, index) => request.at - unanswered[index]!.at);
    assert.ok(gaps.every((gap) => gap >= 800 && gap <= 4000), `asked about every second: ${gaps.join(', ')} ms apart`);

    // Answered with a 63 s token: it replaces the first, and the next request waits until a minute
    // before the new expiry, then names it; answered with an hour's token, the asking stops.
    answerWith = 63;
    const second = await until('the 63 s token', () => minted[0]);
    await until('the portal holding it', async () => ((await storedToken(frame)) === second ? true : undefined));
    const afterSecond = await until('a request for the 63 s token', async () => {
      const found = (await requestsOf(page)).filter((request) => request.data.expiresAt === expiryOf(second));
      return found.length > 0 ? found : undefined;
    });
    assert.ok(afterSecond[0]!.at >= claims(second).exp * 1000 - 61_000, `not before a minute before its expiry (${claims(second).exp * 1000 - afterSecond[0]!.at} ms before)`);
    assert.deepEqual(afterSecond[0]!.data, { type: 'hookshape:token-request', accountId: account, expiresAt: expiryOf(second) });
    answerWith = 3600;
    const final = await until('the hour-long token', () => minted[1]);
    await until('the portal holding the hour-long token', async () => ((await storedToken(frame)) === final ? true : undefined));
    await sleep(1500);
    const settled = (await requestsOf(page)).length;

    // Past the first token's expiry (and the API's 5 s clock tolerance): the portal still works, with the fresh token.
    await sleep(Math.max(0, firstExpiry + 6_000 - Date.now()));
    await framed.getByRole('link', { name: 'Deliveries' }).click();
    await framed.getByRole('heading', { name: 'Deliveries' }).waitFor();
    await framed.getByRole('link', { name: 'Webhooks' }).click();
    await framed.getByRole('link', { name: 'Still listed' }).waitFor();
    assert.equal(await framed.getByRole('heading', { name: 'Session expired' }).count(), 0);
    const late = apiCalls.filter((entry) => entry.at > firstExpiry && entry.path.startsWith(`/v1/accounts/${account}/`));
    assert.ok(late.length >= 2, 'API calls after the first expiry');
    assert.deepEqual([...new Set(late.map((entry) => entry.token))], [final], 'made with the fresh token');
    assert.equal((await requestsOf(page)).length, settled, 'and no more requests: the token is good for an hour');
    assert.equal(minted.length, 2);
    await page.close();
  });

  it('ignores every answer the protocol does not accept: another origin, not its parent, another account, an earlier or equal exp, malformed; then shows Session expired at expiry', async () => {
    const account = 'acc_embed_ignore';
    await webhook(account, 'Ignore test');
    // Signed with the API's keys: one with the held token's exp, one expiring earlier. All still valid.
    const now = new Date();
    // Under a minute, so the portal asks at once; long enough for the 17 cases below on a busy machine.
    const [held, same, earlier] = await Promise.all([mintShort(account, 55, now), mintShort(account, 55, now), mintShort(account, 45, now)]);
    assert.notEqual(held, same);
    // Good tokens in every way but the one under test: minted through the API, later than the held one.
    const fresh = (await mint(account)).token;
    const otherAccount = (await mint('acc_embed_other')).token;
    const forged = (payload: unknown) => `${b64url({ alg: 'EdDSA', typ: 'JWT' })}.${b64url(payload)}.c2ln`;
    const later = claims(fresh).exp;

    // A page of the allowed origin that answers nothing by itself, with two sibling frames that post to
    // the portal: one of another origin, one of the allowed origin (the same origin, but not the parent).
    const sibling = `<!doctype html><script>
      window.addEventListener('message', (event) => { if (event.data && event.data.post) parent.frames[0].postMessage(event.data.post, '*'); });
    </script>`;
    refused.page('/sibling.html', sibling);
    allowed.page('/sibling.html', sibling);
    allowed.page('/manual.html', `<!doctype html><title>Embedding page</title>${docFrame(held, account)}${RECORDER}
      <iframe id="other-origin" title="other origin" src="${refused.origin}/sibling.html"></iframe>
      <iframe id="same-origin" title="same origin" src="${allowed.origin}/sibling.html"></iframe>`);
    const page = await context.newPage();
    await page.goto(`${allowed.origin}/manual.html`);
    const framed = page.frameLocator('#webhooks');
    await framed.getByRole('link', { name: 'Ignore test' }).waitFor();
    const frame = await portalFrame(page);
    await until('a token request', async () => ((await requestsOf(page)).length > 0 ? true : undefined));

    type Send = { from: 'parent' | 'other-origin' | 'same-origin'; data: unknown };
    const cases: Array<{ name: string } & Send> = [
      { name: 'a fresh token from a frame of another origin', from: 'other-origin', data: { type: 'hookshape:token', token: fresh } },
      { name: 'a fresh token from a frame of the allowed origin that is not the parent', from: 'same-origin', data: { type: 'hookshape:token', token: fresh } },
      { name: "another account's token", from: 'parent', data: { type: 'hookshape:token', token: otherAccount } },
      { name: 'a token expiring earlier', from: 'parent', data: { type: 'hookshape:token', token: earlier } },
      { name: 'a token expiring at the same time', from: 'parent', data: { type: 'hookshape:token', token: same } },
      { name: 'another type', from: 'parent', data: { type: 'hookshape:token-request', token: fresh } },
      { name: 'no type', from: 'parent', data: { token: fresh } },
      { name: 'the token alone, as a string', from: 'parent', data: fresh },
      { name: 'the url instead of the token', from: 'parent', data: { type: 'hookshape:token', token: `${api.url}/portal/#token=${fresh}` } },
      { name: 'no token', from: 'parent', data: { type: 'hookshape:token' } },
      { name: 'a token that is a number', from: 'parent', data: { type: 'hookshape:token', token: 42 } },
      { name: 'the token in an array', from: 'parent', data: { type: 'hookshape:token', token: [fresh] } },
      { name: 'null', from: 'parent', data: null },
      { name: 'not a JWT', from: 'parent', data: { type: 'hookshape:token', token: 'not a token' } },
      { name: 'claims that are not base64', from: 'parent', data: { type: 'hookshape:token', token: 'eyJhbGciOiJFZERTQSJ9.%%%.c2ln' } },
      { name: 'claims without acc', from: 'parent', data: { type: 'hookshape:token', token: forged({ exp: later, scope: 'webhooks:read' }) } },
      { name: 'exp as a string', from: 'parent', data: { type: 'hookshape:token', token: forged({ acc: account, exp: String(later), scope: 'webhooks:read' }) } },
    ];
    const post = (send: Send) =>
      page.evaluate(({ from, data }) => {
        const portal = (document.getElementById('webhooks') as HTMLIFrameElement).contentWindow!;
        if (from === 'parent') portal.postMessage(data, '*');
        else (document.getElementById(from) as HTMLIFrameElement).contentWindow!.postMessage({ post: data }, '*');
      }, send as { from: string; data: unknown });
    const received = () => frame.evaluate(() => (window as unknown as { __received: Array<{ origin: string; fromParent: boolean; data: unknown }> }).__received);
    let pageLink = 'Deliveries';
    for (const [index, item] of cases.entries()) {
      await post(item);
      // Delivered to the portal (through its listener, which runs after the recorder's) ...
      const got = await until(`${item.name} delivered`, async () => (await received())[index]);
      assert.deepEqual(got, { origin: item.from === 'other-origin' ? refused.origin : allowed.origin, fromParent: item.from === 'parent', data: item.data }, item.name);
      // ... and ignored: the held token is kept, and the next API call uses it.
      assert.equal(await storedToken(frame), held, `${item.name}: the stored token is unchanged`);
      const before = apiCalls.length;
      await framed.getByRole('link', { name: pageLink }).click();
      await framed.getByRole('heading', { name: pageLink }).waitFor();
      const next = await until(`${item.name}: an API call`, () => apiCalls.slice(before).find((entry) => entry.path.startsWith(`/v1/accounts/${account}/`)));
      assert.equal(next.token, held, `${item.name}: the API call is made with the held token`);
      pageLink = pageLink === 'Deliveries' ? 'Webhooks' : 'Deliveries';
    }
    assert.ok(Date.now() < claims(held).exp * 1000, 'all of it while the held token was valid (else the test proves nothing)');

    // Nothing valid came: at the held token's expiry, Session expired, and the token is forgotten.
    await framed.getByRole('heading', { name: 'Session expired' }).waitFor({ timeout: claims(held).exp * 1000 - Date.now() + 5_000 });
    assert.ok(Date.now() >= claims(held).exp * 1000, 'not before its expiry');
    assert.equal(await storedToken(frame), null);
    // It had kept asking, for the held token, until then; now it asks no more and takes nothing, not even a good token.
    const requests = await requestsOf(page);
    assert.ok(requests.length >= 5, `asked every second (${requests.length} requests)`);
    assert.ok(requests.every((request) => request.data.expiresAt === expiryOf(held)));
    await post({ from: 'parent', data: { type: 'hookshape:token', token: fresh } });
    await until('the late token delivered', async () => (await received())[cases.length]);
    await sleep(2000);
    assert.equal(await storedToken(frame), null, 'a token after the end is not taken');
    assert.equal(await framed.getByRole('heading', { name: 'Session expired' }).count(), 1);
    assert.equal((await requestsOf(page)).length, requests.length, 'no request after the end');
    await page.close();
  });

  it('a token the API refuses (401) ends the embedded session: Session expired, no more requests to the page, no token taken afterwards', async () => {
    const account = 'acc_embed_refused';
    // Well-formed claims for the account, less than a minute left, but signed by nobody the API knows.
    const unsigned = `${b64url({ alg: 'EdDSA', typ: 'JWT', kid: 'unknown' })}.${b64url({ acc: account, exp: Math.floor(Date.now() / 1000) + 50, iat: Math.floor(Date.now() / 1000), scope: 'webhooks:read', sub: 'x' })}.c2ln`;
    allowed.page('/refused.html', `<!doctype html><title>Embedding page</title>${docFrame(unsigned, account)}${RECORDER}`);
    const page = await context.newPage();
    await page.goto(`${allowed.origin}/refused.html`);
    const framed = page.frameLocator('#webhooks');
    await framed.getByRole('heading', { name: 'Session expired' }).waitFor();
    const frame = await portalFrame(page);
    // Recorded once the request's headers are read (asynchronously): waited for, not looked at once.
    await until('the API asked, and refusing', () => apiCalls.find((entry) => entry.token === unsigned), 10_000);
    const asked = (await requestsOf(page)).length;
    const fresh = (await mint(account)).token;
    await page.evaluate((token) => (document.getElementById('webhooks') as HTMLIFrameElement).contentWindow!.postMessage({ type: 'hookshape:token', token }, '*'), fresh);
    await until('the token delivered', async () => ((await frame.evaluate(() => (window as unknown as { __received: unknown[] }).__received.length)) > 0 ? true : undefined));
    await sleep(2500);
    assert.equal(await storedToken(frame), null, 'the refused token is forgotten and the fresh one not taken');
    assert.equal((await requestsOf(page)).length, asked, 'no request after the end');
    assert.equal(await framed.getByRole('heading', { name: 'Session expired' }).count(), 1);
    await page.close();
  });
});
