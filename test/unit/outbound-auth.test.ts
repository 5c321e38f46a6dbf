import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { attemptRecord } from '../../functions/src/delivery/delivery-record.ts';
import { previewDelivery } from '../../functions/src/dispatch/preview-delivery.ts';
import type { EventMessage } from '../../functions/src/events/event-message.ts';
import { createMemoryLogger } from '../../functions/src/log/logger.ts';
import { buildRequest, type OutgoingRequest } from '../../functions/src/render/build-request.ts';
import { TemplateEngine } from '../../functions/src/render/template-engine.ts';
import { classifyOutcome } from '../../functions/src/send/classify-outcome.ts';
import { DESTINATION_REFUSED, TOKEN_REJECTED, TOKEN_UNAVAILABLE, type HttpSender, type SendResult } from '../../functions/src/send/http-sender.ts';
import { OAuth2Tokens, type OAuth2Auth } from '../../functions/src/send/oauth2-tokens.ts';
import { validateWebhookDocument } from '../../functions/src/validation/validate-webhook.ts';
import { parseWebhookConfig, type WebhookConfig } from '../../functions/src/webhooks/webhook-config.ts';
import { event as fakeEvent, ManualClock, response, START, webhookDocument, World } from './delivery-fakes.ts';

const engine = new TemplateEngine();
const event: EventMessage = { id: 'evt_1', type: 'call.created', accountId: 'acc_1', occurredAt: '2026-11-23T10:00:00Z', data: { call: { id: 'c1' } } };
const SECRETS = { CRM_PASSWORD: 'pa:ss wörd', CRM_TOKEN: 'tok-123456', CRM_KEY: 'key-abcdef', CLIENT_SECRET: 's3cr3t+/=' };

function webhook(fields: Record<string, unknown>): WebhookConfig {
  const parsed = parseWebhookConfig('acc_1', 'wh_1', { name: 'Test hook', events: ['call.created'], url: 'https://example.com/hook', ...fields });
  if (!parsed.ok) throw new Error(parsed.reason);
  return parsed.webhook;
}

async function build(fields: Record<string, unknown>, secrets: Record<string, string> = SECRETS): Promise<OutgoingRequest> {
  const built = await buildRequest(webhook(fields), event, secrets, engine);
  if (!built.ok) throw built.error;
  return built.request;
}

describe('auth: basic, bearer and header from account secrets', () => {
  it('basic: Authorization: Basic base64(username:password)', async () => {
    const request = await build({ auth: { type: 'basic', username: 'hook', passwordSecretName: 'CRM_PASSWORD' } });
    assert.equal(request.headers.Authorization, `Basic ${Buffer.from('hook:pa:ss wörd').toString('base64')}`);
  });

  it('bearer: Authorization: Bearer <secret>', async () => {
    const request = await build({ auth: { type: 'bearer', tokenSecretName: 'CRM_TOKEN' } });
    assert.equal(request.headers.Authorization, 'Bearer tok-123456');
  });

  it('header: a header of its own name', async () => {
    const request = await build({ auth: { type: 'header', name: 'X-Api-Key', valueSecretName: 'CRM_KEY' } });
    assert.equal(request.headers['X-Api-Key'], 'key-abcdef');
    assert.equal(request.headers.Authorization, undefined);
  });

  it('oauth2: nothing at render time (the token is added when sent)', async () => {
    const request = await build({ auth: { type: 'oauth2', tokenUrl: 'https://auth.example.com/token', clientId: 'c', clientSecretName: 'CLIENT_SECRET' } });
    assert.equal(request.headers.Authorization, undefined);
  });

  const invalid: Array<{ name: string; fields: Record<string, unknown>; secrets?: Record<string, string>; field: string; message: RegExp }> = [
    { name: 'a missing secret', fields: { auth: { type: 'bearer', tokenSecretName: 'NOPE' } }, field: 'auth.tokenSecretName', message: /the account has no secret named NOPE/ },
    { name: 'a missing password', fields: { auth: { type: 'basic', username: 'u', passwordSecretName: 'NOPE' } }, field: 'auth.passwordSecretName', message: /no secret named NOPE/ },
    { name: 'a secret with a line break', fields: { auth: { type: 'header', name: 'X-Key', valueSecretName: 'BAD' } }, secrets: { BAD: 'a\r\nX-Injected: 1' }, field: 'auth.valueSecretName', message: /cannot be sent in a header/ },
    { name: 'Authorization both in headers and auth', fields: { headers: { authorization: 'x' }, auth: { type: 'bearer', tokenSecretName: 'CRM_TOKEN' } }, field: 'headers.authorization', message: /auth \(bearer\) sets Authorization: remove headers\.authorization, or auth/ },
    { name: 'the same custom header twice', fields: { headers: { 'X-Api-Key': 'x' }, auth: { type: 'header', name: 'x-api-key', valueSecretName: 'CRM_KEY' } }, field: 'headers.X-Api-Key', message: /sets x-api-key/ },
    { name: 'a reserved header', fields: { auth: { type: 'header', name: 'Host', valueSecretName: 'CRM_KEY' } }, field: 'auth.name', message: /cannot carry credentials/ },
    { name: 'a standard header', fields: { auth: { type: 'header', name: 'User-Agent', valueSecretName: 'CRM_KEY' } }, field: 'auth.name', message: /cannot carry credentials/ },
    { name: 'a header name that is not one', fields: { auth: { type: 'header', name: 'X Key', valueSecretName: 'CRM_KEY' } }, field: 'auth.name', message: /not a valid header name/ },
  ];
  for (const { name, fields, secrets, field, message } of invalid) {
    it(`invalid: ${name}`, async () => {
      const built = await buildRequest(webhook(fields), event, secrets ?? SECRETS, engine);
      assert.equal(built.ok, false);
      assert.ok(!built.ok && built.error.field === field, !built.ok ? `${built.error.field}: ${built.error.message}` : '');
      assert.match(!built.ok ? built.error.message : '', message);
    });
  }

  it('the delivery record shows Authorization: [redacted], and no form of a credential anywhere', async () => {
    for (const auth of [{ type: 'basic', username: 'hook', passwordSecretName: 'CRM_PASSWORD' }, { type: 'bearer', tokenSecretName: 'CRM_TOKEN' }, { type: 'header', name: 'X-Custom-Auth', valueSecretName: 'CRM_KEY' }]) {
      const request = await build({ auth, body: '{"ok": true}' });
      const header = auth.type === 'header' ? 'X-Custom-Auth' : 'Authorization';
      // A receiver that echoes the request headers back in its body.
      const echo = JSON.stringify(request.headers);
      const sent: SendResult = { kind: 'response', status: 200, headers: { 'x-echo': request.headers[header]! }, body: Buffer.from(echo), truncated: false, durationMs: 5 };
      const record = attemptRecord({ number: 1, target: 'primary', attemptOfTarget: 1, startedAt: new Date(), request, sent, outcome: classifyOutcome(sent, new Date()) });
      assert.equal(record.request?.headers[header], '[redacted]', `${auth.type}: ${header}`);
      const text = JSON.stringify(record);
      for (const value of [...Object.values(SECRETS), request.headers[header]!, request.headers[header]!.replace(/^(Basic|Bearer) /, '')]) assert.ok(!text.includes(value), `${auth.type}: ${value} leaked into the record`);
    }
  });
});

describe('auth in a preview (hookshape preview, the API)', () => {
  const cases: Array<{ auth: Record<string, unknown>; header: string; shown: string }> = [
    { auth: { type: 'basic', username: 'hook', passwordSecretName: 'CRM_PASSWORD' }, header: 'Authorization', shown: 'Basic [base64 of hook:[secret:CRM_PASSWORD]]' },
    { auth: { type: 'bearer', tokenSecretName: 'CRM_TOKEN' }, header: 'Authorization', shown: 'Bearer [secret:CRM_TOKEN]' },
    { auth: { type: 'header', name: 'X-Api-Key', valueSecretName: 'CRM_KEY' }, header: 'X-Api-Key', shown: '[secret:CRM_KEY]' },
    { auth: { type: 'oauth2', tokenUrl: 'https://auth.example.com/token?x=1', clientId: 'hook', clientSecretName: 'CLIENT_SECRET' }, header: 'Authorization', shown: 'Bearer [OAuth2 access token from https://auth.example.com/token for client hook, fetched at send time]' },
  ];
  for (const { auth, header, shown } of cases) {
    it(`${auth.type}: names where the credential comes from, never its value`, async () => {
      const preview = await previewDelivery(webhook({ auth }), event, SECRETS, engine);
      assert.ok(preview.built.ok);
      assert.equal(preview.built.request.headers[header], shown);
      for (const value of Object.values(SECRETS)) assert.ok(!JSON.stringify(preview.built.request.headers).includes(value));
    });
  }
});

describe('auth at save time', () => {
  const base = { name: 'CRM', events: ['call.created'], url: 'https://crm.example.com/calls' };
  const validate = (document: unknown, allowLoopback = false) => validateWebhookDocument(document, { accountId: 'acc_1', webhookId: 'crm', engine, allowLoopback });
  const cases: Array<{ name: string; auth: unknown; field?: string; message?: RegExp; allowLoopback?: boolean }> = [
    { name: 'basic, checked without the secret', auth: { type: 'basic', username: 'hook', passwordSecretName: 'CRM_PASSWORD' } },
    { name: 'bearer', auth: { type: 'bearer', tokenSecretName: 'CRM_TOKEN' } },
    { name: 'header', auth: { type: 'header', name: 'X-Api-Key', valueSecretName: 'CRM_KEY' } },
    { name: 'oauth2', auth: { type: 'oauth2', tokenUrl: 'https://auth.example.com/oauth/token', clientId: 'hookshape', clientSecretName: 'CRM_CLIENT_SECRET', scope: 'calls:write', audience: 'https://api.crm.example.com' } },
    { name: 'oauth2 on loopback http where loopback is allowed', auth: { type: 'oauth2', tokenUrl: 'http://127.0.0.1:8080/token', clientId: 'c', clientSecretName: 'S' }, allowLoopback: true },
    { name: 'a value where a secret name goes', auth: { type: 'bearer', tokenSecretName: 'eyJhbGciOi.J9' }, field: 'auth.tokenSecretName', message: /not the secret itself/ },
    { name: 'a credential in the document', auth: { type: 'bearer', token: 'abc' }, field: 'auth', message: /token: not a field of auth type bearer \(its fields: type, tokenSecretName\)/ },
    { name: 'an unknown type', auth: { type: 'digest' }, field: 'auth.type', message: /must be one of basic, bearer, header, oauth2/ },
    { name: 'a user name with a colon', auth: { type: 'basic', username: 'a:b', passwordSecretName: 'P' }, field: 'auth.username', message: /must not contain ":"/ },
    { name: 'oauth2 without a client secret', auth: { type: 'oauth2', tokenUrl: 'https://auth.example.com/token', clientId: 'c' }, field: 'auth.clientSecretName', message: /must be the name of a secret/ },
    { name: 'oauth2 over http', auth: { type: 'oauth2', tokenUrl: 'http://auth.example.com/token', clientId: 'c', clientSecretName: 'S' }, field: 'auth.tokenUrl', message: /must be https: the client secret is sent to it/ },
    { name: 'oauth2 to an internal host', auth: { type: 'oauth2', tokenUrl: 'https://metadata.google.internal/token', clientId: 'c', clientSecretName: 'S' }, field: 'auth.tokenUrl', message: /metadata server/ },
    { name: 'oauth2 with a template URL', auth: { type: 'oauth2', tokenUrl: 'https://{{ secrets.HOST }}/token', clientId: 'c', clientSecretName: 'S' }, field: 'auth.tokenUrl', message: /must be literal text/ },
  ];
  for (const { name, auth, field, message, allowLoopback } of cases) {
    it(`${field ? 'refuses' : 'accepts'} ${name}`, async () => {
      const report = await validate({ ...base, auth }, allowLoopback);
      if (!field) return assert.deepEqual(report.errors, []);
      assert.ok(report.errors.some((error) => error.field === field && message!.test(error.message)), JSON.stringify(report.errors));
    });
  }
});

// ---------------------------------------------------------------------------------------------------
// OAuth2 client credentials.

const AUTH: OAuth2Auth = { type: 'oauth2', tokenUrl: 'https://auth.example.com/oauth/token', clientId: 'hook shape', clientSecretName: 'CLIENT_SECRET', scope: 'calls:write', audience: 'https://api.example.com' };
const HOOK = { accountId: 'acc_1', id: 'wh_1' };

/** A token endpoint: answers in turn, after `delayMs` (so concurrent callers overlap). */
class TokenEndpoint implements HttpSender {
  readonly requests: OutgoingRequest[] = [];
  answers: Array<SendResult | ((n: number) => SendResult)> = [];
  delayMs = 5;
  issued = 0;
  async send(request: OutgoingRequest): Promise<SendResult> {
    this.requests.push(request);
    await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    const next = this.answers.shift();
    if (next) return typeof next === 'function' ? next(this.requests.length) : next;
    this.issued += 1;
    return response(200, { 'content-type': 'application/json' }, JSON.stringify({ access_token: `token-${this.issued}`, token_type: 'Bearer', expires_in: 3600 }));
  }
}

function tokens(allowLoopback = false) {
  const endpoint = new TokenEndpoint();
  const clock = new ManualClock(START);
  return { endpoint, clock, source: new OAuth2Tokens(endpoint, clock, { allowLoopback }), logger: createMemoryLogger() };
}
const get = async (t: ReturnType<typeof tokens>, auth: OAuth2Auth = AUTH, secrets: Record<string, string> = SECRETS) => t.source.token(HOOK, auth, secrets, t.logger);
const tokenOf = (result: Awaited<ReturnType<typeof get>>) => (result.ok ? result.token : `failed: ${result.failure.code}`);

describe('OAuth2 tokens: fetched through the deliveries\' sender, cached, shared', () => {
  it('the token request: POST, form-encoded client_credentials, client_secret_basic, scope and audience', async () => {
    const t = tokens();
    assert.equal(tokenOf(await get(t)), 'token-1');
    const [request] = t.endpoint.requests;
    assert.equal(request!.method, 'POST');
    assert.equal(request!.url, AUTH.tokenUrl);
    assert.equal(request!.headers['Content-Type'], 'application/x-www-form-urlencoded');
    assert.equal(request!.headers.Authorization, `Basic ${Buffer.from('hook+shape:s3cr3t%2B%2F%3D').toString('base64')}`);
    assert.equal(request!.body, 'grant_type=client_credentials&scope=calls%3Awrite&audience=https%3A%2F%2Fapi.example.com');
    assert.ok(request!.secretValues.includes(SECRETS.CLIENT_SECRET), 'the client secret is redacted wherever this request is shown');
  });

  it('50 concurrent deliveries share one token request (single flight), and later ones use the cache', async () => {
    const t = tokens();
    const results = await Promise.all(Array.from({ length: 50 }, () => get(t)));
    assert.deepEqual(new Set(results.map(tokenOf)), new Set(['token-1']));
    assert.equal(t.endpoint.requests.length, 1);
    assert.equal(tokenOf(await get(t)), 'token-1');
    assert.equal(t.endpoint.requests.length, 1);
  });

  it('refreshed shortly before it expires, not after every request', async () => {
    const t = tokens();
    await get(t);
    t.clock.advance(3600_000 - 61_000);
    assert.equal(tokenOf(await get(t)), 'token-1', 'still valid for more than the margin');
    t.clock.advance(2000);
    assert.equal(tokenOf(await get(t)), 'token-2', 'within 60 s of expiry: a new one');
    assert.equal(t.endpoint.requests.length, 2);
  });

  it('a short-lived token is refreshed a tenth of its life early; without expires_in it lives 5 minutes', async () => {
    const t = tokens();
    t.endpoint.answers = [response(200, {}, JSON.stringify({ access_token: 'short', expires_in: 100 })), response(200, {}, JSON.stringify({ access_token: 'no-expiry' }))];
    assert.equal(tokenOf(await get(t)), 'short');
    t.clock.advance(89_000);
    assert.equal(tokenOf(await get(t)), 'short');
    t.clock.advance(2000);
    assert.equal(tokenOf(await get(t)), 'no-expiry');
    t.clock.advance(300_000 - 31_000);
    assert.equal(tokenOf(await get(t)), 'no-expiry');
    t.clock.advance(2000);
    assert.equal(tokenOf(await get(t)), 'token-1');
  });

  it('per webhook, and per settings: another webhook, a changed scope or a rotated client secret ask again', async () => {
    const t = tokens();
    await get(t);
    await t.source.token({ accountId: 'acc_1', id: 'other' }, AUTH, SECRETS, t.logger);
    await get(t, { ...AUTH, scope: 'calls:read' });
    await get(t, { ...AUTH, scope: 'calls:read' }, { ...SECRETS, CLIENT_SECRET: 'rotated' });
    assert.equal(t.endpoint.requests.length, 4);
  });

  it('invalidate drops the refused token once: fifty 401s make one new token request', async () => {
    const t = tokens();
    await get(t);
    const refreshed = await Promise.all(
      Array.from({ length: 50 }, async () => {
        t.source.invalidate(HOOK, 'token-1');
        return tokenOf(await get(t));
      }),
    );
    assert.deepEqual(new Set(refreshed), new Set(['token-2']));
    assert.equal(t.endpoint.requests.length, 2);
    t.source.invalidate(HOOK, 'token-1'); // a late 401 to the old token: the new one stays
    assert.equal(tokenOf(await get(t)), 'token-2');
    assert.equal(t.endpoint.requests.length, 2);
  });

  const failures: Array<{ name: string; answer: SendResult; code: string; message: RegExp }> = [
    { name: 'invalid_client (401)', answer: response(401, {}, JSON.stringify({ error: 'invalid_client', error_description: 'Client authentication failed' })), code: TOKEN_REJECTED, message: /answered HTTP 401: invalid_client: Client authentication failed \(check auth\.clientId/ },
    { name: '400 invalid_scope', answer: response(400, {}, JSON.stringify({ error: 'invalid_scope' })), code: TOKEN_REJECTED, message: /HTTP 400: invalid_scope/ },
    { name: 'a 503', answer: response(503), code: TOKEN_UNAVAILABLE, message: /answered HTTP 503/ },
    { name: 'a 429', answer: response(429), code: TOKEN_UNAVAILABLE, message: /answered HTTP 429/ },
    { name: 'a timeout', answer: { kind: 'error', code: 'ETIMEDOUT', message: 'timeout', durationMs: 10_000 }, code: TOKEN_UNAVAILABLE, message: /could not be reached: ETIMEDOUT/ },
    { name: 'a refused destination', answer: { kind: 'error', code: DESTINATION_REFUSED, message: 'destination refused: 10.0.0.1 is not a public address', durationMs: 0 }, code: DESTINATION_REFUSED, message: /not a public address/ },
    { name: 'HTML instead of JSON', answer: response(200, {}, '<html>login</html>'), code: TOKEN_REJECTED, message: /without a JSON body/ },
    { name: 'no access_token', answer: response(200, {}, '{"token": "x"}'), code: TOKEN_REJECTED, message: /without a usable access_token/ },
    { name: 'a token with a line break', answer: response(200, {}, JSON.stringify({ access_token: 'a\r\nb' })), code: TOKEN_REJECTED, message: /without a usable access_token/ },
    { name: 'a token type other than Bearer', answer: response(200, {}, JSON.stringify({ access_token: 'x', token_type: 'DPoP' })), code: TOKEN_REJECTED, message: /issued a DPoP token/ },
  ];
  for (const { name, answer, code, message } of failures) {
    it(`token endpoint failure: ${name} → ${code}, not cached`, async () => {
      const t = tokens();
      t.endpoint.answers = [answer];
      const result = await get(t);
      assert.ok(!result.ok);
      assert.equal(result.failure.code, code);
      assert.match(result.failure.message, message);
      assert.ok(!result.failure.message.includes(SECRETS.CLIENT_SECRET));
      assert.equal(tokenOf(await get(t)), 'token-1', 'the next delivery asks again');
    });
  }

  it('refuses an http token URL (the client secret would travel in clear) unless loopback is allowed', async () => {
    const t = tokens();
    const result = await get(t, { ...AUTH, tokenUrl: 'http://auth.example.com/token' });
    assert.ok(!result.ok && result.failure.code === TOKEN_REJECTED && /must be https/.test(result.failure.message));
    assert.equal(t.endpoint.requests.length, 0);
    const local = tokens(true);
    assert.equal(tokenOf(await get(local, { ...AUTH, tokenUrl: 'http://127.0.0.1:9/token' })), 'token-1');
  });

  it('a missing client secret is refused without a request', async () => {
    const t = tokens();
    const result = await get(t, AUTH, {});
    assert.ok(!result.ok && /no secret named CLIENT_SECRET/.test(result.failure.message));
    assert.equal(t.endpoint.requests.length, 0);
  });
});

describe('oauth2 deliveries (the state machine with a token source)', () => {
  class AuthWorld extends World {
    readonly tokens = new OAuth2Tokens(this.sender, this.clock, { allowLoopback: false });
    override deps() {
      return { ...super.deps(), tokens: this.tokens };
    }
  }
  const TOKEN_URL = 'https://auth.example/hooks/token/issue';
  const oauthHook = (id: string) => webhookDocument(id, { auth: { type: 'oauth2', tokenUrl: TOKEN_URL, clientId: 'hookshape', clientSecretName: 'CLIENT_SECRET' } });
  /** The token endpoint issues tok-1, tok-2…; the receiver accepts only `valid`. */
  function script(world: AuthWorld, valid: () => string, tokenAnswer?: () => SendResult) {
    let issued = 0;
    world.secrets.secrets = { CLIENT_SECRET: 'cs-secret' };
    world.sender.respond = (request) => {
      if (request.url === TOKEN_URL) return tokenAnswer?.() ?? response(200, {}, JSON.stringify({ access_token: `tok-${++issued}`, expires_in: 3600 }));
      return request.headers.Authorization === `Bearer ${valid()}` ? response(200, {}, `echo ${request.headers.Authorization}`) : response(401);
    };
    return { tokenRequests: () => world.sender.requests.filter((request) => request.url === TOKEN_URL).length };
  }

  it('sends the bearer token; the record shows Authorization: [redacted] and the token nowhere', async () => {
    const world = new AuthWorld({ webhooks: [] });
    world.webhooks.set('acc-1', 'oauth', oauthHook('oauth'));
    const endpoint = script(world, () => 'tok-1');
    for (const id of ['evt-1', 'evt-2', 'evt-3']) await world.publish(fakeEvent(id));
    for (const id of ['evt-1', 'evt-2', 'evt-3']) assert.equal(world.record('oauth', id).status, 'succeeded');
    assert.equal(endpoint.tokenRequests(), 1);
    const record = world.record('oauth');
    assert.equal(record.attempts[0]!.request?.headers.Authorization, '[redacted]');
    const text = JSON.stringify([...world.deliveries.records.values()]);
    assert.ok(!text.includes('tok-1') && !text.includes('cs-secret'), 'no token or client secret in any record');
    assert.ok(!JSON.stringify(world.logger.entries).includes('tok-1'), 'nor in the log');
  });

  it('a 401 refreshes the token once and the request goes again in the same attempt', async () => {
    const world = new AuthWorld({ webhooks: [] });
    world.webhooks.set('acc-1', 'oauth', oauthHook('oauth'));
    let valid = 'tok-1';
    const endpoint = script(world, () => valid);
    await world.publish(fakeEvent('evt-1'));
    valid = 'tok-2'; // the receiver rotated its keys: tok-1 is refused from now on
    await world.publish(fakeEvent('evt-2'));
    const record = world.record('oauth', 'evt-2');
    assert.equal(record.status, 'succeeded');
    assert.equal(record.attempts.length, 1);
    assert.match(record.attempts[0]!.summary, /HTTP 200 \(sent again with a new OAuth2 token after a 401/);
    assert.equal(endpoint.tokenRequests(), 2);
    assert.equal(world.received('oauth', 'evt-2'), 2);
  });

  it('a receiver that refuses every token: one refresh, then the 401 is the answer (not retried)', async () => {
    const world = new AuthWorld({ webhooks: [] });
    world.webhooks.set('acc-1', 'oauth', oauthHook('oauth'));
    const endpoint = script(world, () => 'never');
    await world.publish(fakeEvent('evt-1'));
    const record = world.record('oauth', 'evt-1');
    assert.equal(record.status, 'failed');
    assert.equal(record.errorCode, 'http_error');
    assert.equal(endpoint.tokenRequests(), 2);
    assert.equal(world.received('oauth', 'evt-1'), 2);
  });

  it("the webhook's timeout bounds the whole attempt: token requests and the second send included", async () => {
    const world = new AuthWorld({ webhooks: [] });
    world.webhooks.set('acc-1', 'oauth', webhookDocument('oauth', { timeoutSeconds: 5, auth: { type: 'oauth2', tokenUrl: TOKEN_URL, clientId: 'c', clientSecretName: 'CLIENT_SECRET' } }));
    let valid = 'tok-1';
    const slowToken = () => ({ ...response(200, {}, JSON.stringify({ access_token: `tok-${world.sender.requests.filter((r) => r.url === TOKEN_URL).length}` })), durationMs: 2000 });
    script(world, () => valid, slowToken);
    await world.publish(fakeEvent('evt-1'));
    assert.equal(world.record('oauth', 'evt-1').status, 'succeeded');
    valid = 'tok-2';
    await world.publish(fakeEvent('evt-2'));
    const sends = world.sender.requests.filter((request) => request.url.includes('/evt-2'));
    assert.deepEqual(sends.map((request) => request.timeoutMs), [5000, 5000 - 40 - 2000], 'the second send gets what is left of the 5 s');
    const tokenRequests = world.sender.requests.filter((request) => request.url === TOKEN_URL);
    assert.ok(tokenRequests.every((request) => request.timeoutMs <= 5000));
    world.sender.respond = (request) => (request.url === TOKEN_URL ? { ...response(200, {}, '{"access_token":"tok-9"}'), durationMs: 5000 } : response(200));
    world.webhooks.set('acc-1', 'oauth', webhookDocument('oauth', { timeoutSeconds: 5, auth: { type: 'oauth2', tokenUrl: TOKEN_URL, clientId: 'c2', clientSecretName: 'CLIENT_SECRET' } }));
    await world.publish(fakeEvent('evt-3'));
    const record = world.record('oauth', 'evt-3');
    assert.equal(record.status, 'retrying');
    assert.match(record.lastError ?? '', /token request used up the attempt's timeout/);
    assert.equal(world.received('oauth', 'evt-3'), 0);
  });

  it('refused client credentials end the delivery auth_failed; a token endpoint that is down is retried', async () => {
    const world = new AuthWorld({ webhooks: [] });
    world.webhooks.set('acc-1', 'oauth', oauthHook('oauth'));
    let answer = response(401, {}, '{"error":"invalid_client"}');
    script(world, () => 'tok-1', () => answer);
    await world.publish(fakeEvent('evt-1'));
    assert.deepEqual([world.record('oauth', 'evt-1').status, world.record('oauth', 'evt-1').errorCode], ['failed', 'auth_failed']);
    assert.match(world.record('oauth', 'evt-1').lastError ?? '', /token endpoint .* answered HTTP 401: invalid_client/);
    assert.equal(world.received('oauth', 'evt-1'), 0, 'nothing reached the receiver');
    answer = response(503);
    await world.publish(fakeEvent('evt-2'));
    assert.equal(world.record('oauth', 'evt-2').status, 'retrying');
  });
});
