/**
 * The sender (functions/src/send) against real HTTP servers on 127.0.0.1: the destination guard, internal
 * host names refused before DNS, response limits. The same guard in the deployed dispatcher is tested
 * through the bundle in test/integration/security.test.ts.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { LookupFunction } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { OutgoingRequest } from '../../functions/src/render/build-request.ts';
import got from 'got';
import { RequestFilteringHttpAgent } from 'request-filtering-agent';
import { classifyOutcome } from '../../functions/src/send/classify-outcome.ts';
import { GotHttpSender, guardedLookup, sendThroughGot } from '../../functions/src/send/got-http-sender.ts';
import { DESTINATION_REFUSED, MAX_RESPONSE_READ_BYTES } from '../../functions/src/send/http-sender.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

const request = (url: string): OutgoingRequest => ({ method: 'POST', url, headers: {}, body: '{}', timeoutMs: 2000, secretValues: [], secretHeaders: [] });

/** Resolves every name to one address: a public-looking name that points inside. */
const resolveTo = (address: string, family: 4 | 6 = 4): LookupFunction =>
  ((_hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) =>
    options?.all ? callback(null, [{ address, family }]) : callback(null, address, family)) as unknown as LookupFunction;

describe('destination guard (production setting: loopback not allowed)', () => {
  let receiver: Receiver;
  let port: number;
  before(async () => {
    receiver = await startReceiver();
    port = Number(new URL(receiver.url).port);
  });
  after(() => receiver.close());

  const hostile = [
    { name: 'loopback', url: () => `http://127.0.0.1:${port}/x` },
    { name: 'decimal loopback', url: () => `http://2130706433:${port}/x` },
    { name: 'octal loopback', url: () => `http://0177.0.0.1:${port}/x` },
    { name: 'IPv6-mapped loopback', url: () => `http://[::ffff:127.0.0.1]:${port}/x` },
    { name: 'IPv6 loopback', url: () => `http://[::1]:${port}/x` },
    { name: 'metadata server IP', url: () => 'http://169.254.169.254/computeMetadata/v1/instance/service-accounts/default/token' },
    { name: 'private 10/8', url: () => 'http://10.0.0.1/' },
    { name: 'private 192.168/16', url: () => 'http://192.168.1.1/' },
    { name: 'CGNAT', url: () => 'http://100.64.0.1/' },
    { name: 'unspecified', url: () => `http://0.0.0.0:${port}/` },
    { name: 'unique-local IPv6', url: () => 'http://[fd00::1]/' },
  ];
  for (const { name, url } of hostile) {
    it(`refuses ${name} before sending a byte, not retried`, async () => {
      const sender = new GotHttpSender({ allowLoopback: false });
      const sent = await sender.send(request(url()));
      assert.equal(sent.kind, 'error');
      assert.equal(sent.kind === 'error' && sent.code, DESTINATION_REFUSED, JSON.stringify(sent));
      assert.equal(classifyOutcome(sent, new Date()).result, 'failed');
      assert.equal(receiver.requests.length, 0);
    });
  }

  it('refuses metadata.google.internal (resolving to the metadata server)', async () => {
    const sender = new GotHttpSender({ allowLoopback: false, lookup: resolveTo('169.254.169.254') });
    const sent = await sender.send(request('http://metadata.google.internal/computeMetadata/v1/'));
    assert.equal(sent.kind === 'error' && sent.code, DESTINATION_REFUSED);
  });

  it('refuses a public name that resolves to a private address (DNS rebinding)', async () => {
    const sender = new GotHttpSender({ allowLoopback: false, lookup: resolveTo('127.0.0.1') });
    const sent = await sender.send(request(`http://api.example.com:${port}/x`));
    assert.equal(sent.kind === 'error' && sent.code, DESTINATION_REFUSED);
    assert.match(sent.kind === 'error' ? sent.message : '', /127\.0\.0\.1 is not a public address/);
    assert.equal(receiver.requests.length, 0);
  });

  it('does not follow a redirect to a private address', async () => {
    const sender = new GotHttpSender({ allowLoopback: true });
    receiver.respond((_r, res) => {
      res.writeHead(302, { location: 'http://169.254.169.254/computeMetadata/v1/' });
      res.end();
    });
    const sent = await sender.send(request(`${receiver.url}/redirect`));
    const outcome = classifyOutcome(sent, new Date());
    assert.equal(outcome.result, 'failed');
    assert.match(outcome.summary, /redirects are not followed.*169\.254\.169\.254/);
    assert.equal(receiver.requests.length, 1);
    receiver.respond((_r, res) => res.end('ok'));
  });
});

describe('internal host names: refused before any DNS query', () => {
  let receiver: Receiver;
  let port: number;
  before(async () => {
    receiver = await startReceiver();
    port = Number(new URL(receiver.url).port);
  });
  after(() => receiver.close());

  /**
   * A resolver that answers every name with the receiver's address, and counts what it was asked.
   * With the loopback allowance on, a name that reached it would be delivered to the receiver: only
   * the name rule stands between these URLs and a 200.
   */
  function spyLookup() {
    const asked: string[] = [];
    const lookup = ((hostname: string, options: { all?: boolean }, callback: (...args: unknown[]) => void) => {
      asked.push(hostname);
      return options?.all ? callback(null, [{ address: '127.0.0.1', family: 4 }]) : callback(null, '127.0.0.1', 4);
    }) as unknown as LookupFunction;
    return { asked, lookup };
  }

  const internal = [
    'metadata.google.internal',
    'metadata.google.internal.',
    'METADATA.Google.Internal',
    '%6detadata.google.internal',
    'ｍｅｔａｄａｔａ.google.internal',
    'metadata',
    'metadata.goog',
    'vm-1.c.my-project.internal',
    'printer.local',
    'router.home.arpa',
    'intranet',
    'user@metadata.google.internal',
  ];
  for (const host of internal) {
    it(`${host}: blocked with the reason, no DNS query, no request, not retried`, async () => {
      const { asked, lookup } = spyLookup();
      const sent = await new GotHttpSender({ allowLoopback: true, lookup }).send(request(`http://${host}:${port}/computeMetadata/v1/`));
      assert.equal(sent.kind === 'error' && sent.code, DESTINATION_REFUSED, JSON.stringify(sent));
      assert.match(sent.kind === 'error' ? sent.message : '', /^destination refused: \S+ is .*; internal host names are never looked up or called$/);
      assert.equal(classifyOutcome(sent, new Date()).result, 'failed');
      assert.deepEqual(asked, []);
      assert.equal(receiver.requests.length, 0);
    });
  }

  it('localhost: blocked without a query in production; with the loopback allowance it is delivered', async () => {
    const strict = spyLookup();
    const refused = await new GotHttpSender({ allowLoopback: false, lookup: strict.lookup }).send(request(`http://localhost:${port}/by-name`));
    assert.equal(refused.kind === 'error' && refused.code, DESTINATION_REFUSED);
    assert.match(refused.kind === 'error' ? refused.message : '', /localhost is a loopback name.*ALLOW_LOOPBACK_DESTINATIONS=true/);
    assert.deepEqual(strict.asked, []);
    assert.equal(receiver.requests.length, 0);

    const local = spyLookup();
    const sent = await new GotHttpSender({ allowLoopback: true, lookup: local.lookup }).send(request(`http://api.localhost:${port}/by-name`));
    assert.equal(sent.kind === 'response' && sent.status, 200, JSON.stringify(sent));
    assert.deepEqual(local.asked, ['api.localhost']);
    assert.equal(receiver.requests.length, 1);
    receiver.requests.length = 0;
  });

  it('public names still go through the lookup (and the connect-time guard)', async () => {
    const { asked, lookup } = spyLookup();
    const sent = await new GotHttpSender({ allowLoopback: true, lookup }).send(request(`http://internal.example.com:${port}/public`));
    assert.equal(sent.kind === 'response' && sent.status, 200);
    assert.deepEqual(asked, ['internal.example.com']);
    receiver.requests.length = 0;
  });

  it('a redirect to an internal name is not followed, and never looked up', async () => {
    const { asked, lookup } = spyLookup();
    receiver.respond((_r, res) => {
      res.writeHead(302, { location: `http://metadata.google.internal:${port}/computeMetadata/v1/` });
      res.end();
    });
    const sent = await new GotHttpSender({ allowLoopback: true, lookup }).send(request(`${receiver.url}/redirect`));
    const outcome = classifyOutcome(sent, new Date());
    assert.equal(outcome.result, 'failed');
    assert.match(outcome.summary, /redirects are not followed.*metadata\.google\.internal/);
    assert.deepEqual(asked, []);
    assert.equal(receiver.requests.length, 1);
    receiver.requests.length = 0;
    receiver.respond((_r, res) => res.end('ok'));
  });

  it("the sender's lookup refuses internal names itself: even a client that follows redirects cannot reach one", async () => {
    const { asked, lookup } = spyLookup();
    receiver.respond((r, res) => {
      if (r.url === '/redirect') res.writeHead(302, { location: `http://metadata.google.internal.:${port}/computeMetadata/v1/` });
      res.end('reached');
    });
    const agent = new RequestFilteringHttpAgent({ allowIPAddressList: ['127.0.0.0/8'] });
    const following = got.extend({ agent: { http: agent }, retry: { limit: 0 }, throwHttpErrors: false, followRedirect: true, dnsLookup: guardedLookup(lookup, { allowLoopback: true }) });
    const sent = await sendThroughGot(following, request(`http://redirector.example.com:${port}/redirect`), 1024);
    assert.equal(sent.kind === 'error' && sent.code, DESTINATION_REFUSED, JSON.stringify(sent));
    assert.match(sent.kind === 'error' ? sent.message : '', /metadata\.google\.internal is the name of Google Cloud's metadata server/);
    assert.deepEqual(asked, ['redirector.example.com']);
    assert.deepEqual(receiver.requests.map((r) => r.url), ['/redirect']);
    receiver.requests.length = 0;
    receiver.respond((_r, res) => res.end('ok'));
    agent.destroy();
  });
});

describe('response limits', () => {
  let server: Server;
  let url: string;
  before(async () => {
    server = createServer((_req, res) => {
      // Streams without end until the client goes away.
      res.writeHead(200);
      const chunk = Buffer.alloc(16 * 1024, 'a');
      const pump = () => {
        while (res.write(chunk)) if (res.destroyed) return;
        res.once('drain', pump);
      };
      pump();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('cuts off a receiver that streams without end, keeping the status', async () => {
    const sent = await new GotHttpSender({ allowLoopback: true }).send(request(url));
    assert.equal(sent.kind, 'response');
    assert.ok(sent.kind === 'response' && sent.truncated);
    assert.equal(sent.kind === 'response' && sent.body.length, MAX_RESPONSE_READ_BYTES);
    assert.equal(classifyOutcome(sent, new Date()).result, 'succeeded');
  });
});

