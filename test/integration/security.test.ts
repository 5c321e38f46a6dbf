import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { DESTINATION_REFUSED } from '../support/kit.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

const SIGNING_SECRET = `whsec_${Buffer.from('0123456789abcdef0123456789abcdef').toString('base64')}`;
const OLD_SIGNING_SECRET = `whsec_${Buffer.from('fedcba9876543210fedcba9876543210').toString('base64')}`;

describe('destination guard in the deployed dispatcher (build/functions, loopback not allowed)', () => {
  let h: Harness;
  let receiver: Receiver;
  before(async () => {
    receiver = await startReceiver();
    h = await startHarness({ env: { ALLOW_LOOPBACK_DESTINATIONS: 'false' } });
  });
  after(async () => {
    await Promise.all([h.close(), receiver.close()]);
  });

  it('refuses loopback, the metadata server and private addresses: failed, not sent, not retried', async () => {
    const port = new URL(receiver.url).port;
    const targets = { loopback: `http://127.0.0.1:${port}/x`, metadata: 'http://169.254.169.254/computeMetadata/v1/', private: 'http://10.0.0.1/', mapped: `http://[::ffff:127.0.0.1]:${port}/x` };
    for (const [id, url] of Object.entries(targets)) await h.setWebhook('acc_guard', id, { name: id, events: ['call.created'], url, timeoutSeconds: 2 });
    const event = eventOf('call.created', 'acc_guard');
    await h.publish(event);
    for (const id of Object.keys(targets)) {
      const record = await h.waitForDelivery('acc_guard', id, event.id);
      assert.equal(record.status, 'failed', `${id}: ${record.lastError}`);
      assert.equal(record.attempts.length, 1, id);
      assert.equal(record.attempts[0]?.error?.code, DESTINATION_REFUSED, `${id}: ${JSON.stringify(record.attempts[0]?.error)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(receiver.requests.length, 0);
    assert.equal(h.tasks.state.tasks.size, 0, 'no retry scheduled');
  });
});

describe('tenant isolation and secrets in the pipeline', () => {
  let h: Harness;
  let receiver: Receiver;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hookshape-secrets-'));
    const file = join(dir, 'secrets.json');
    writeFileSync(file, JSON.stringify({ acc_a: { TOKEN: 'secret-of-a-123', SIGNING: SIGNING_SECRET, SIGNING_OLD: OLD_SIGNING_SECRET }, acc_b: { TOKEN: 'secret-of-b-456', ONLY_B: 'b-only-789' } }));
    receiver = await startReceiver();
    h = await startHarness({ env: { LOCAL_SECRETS_FILE: file } });
  });
  after(async () => {
    await Promise.all([h.close(), receiver.close()]);
  });

  it("a template reads its own account's secrets and never another's", async () => {
    await h.setWebhook('acc_a', 'reads', {
      name: 'reads',
      events: ['call.created'],
      url: `${receiver.url}/reads`,
      headers: { Authorization: 'Bearer {{ secrets.TOKEN }}' },
      body: '{"mine": "{{ secrets.TOKEN }}", "theirs": "{{ secrets.ONLY_B }}"}',
    });
    const event = eventOf('call.created', 'acc_a');
    await h.publish(event);
    const record = await h.waitForDelivery('acc_a', 'reads', event.id);
    assert.equal(record.status, 'succeeded');
    const sent = receiver.requests.find((r) => r.url === '/reads');
    assert.equal(sent?.headers.authorization, 'Bearer secret-of-a-123');
    assert.deepEqual(JSON.parse(sent!.body), { mine: 'secret-of-a-123', theirs: '' });
  });

  it('signs requests with Standard Webhooks headers that the receiver verifies, on every attempt', async () => {
    let calls = 0;
    receiver.respond((r, res) => {
      res.statusCode = r.url === '/signed' && ++calls === 1 ? 500 : 200;
      res.end();
    });
    await h.setWebhook('acc_a', 'signed', { name: 'signed', events: ['call.created'], url: `${receiver.url}/signed`, signingSecretName: 'SIGNING', body: '{"call": "{{ event.id }}"}' });
    const event = eventOf('call.created', 'acc_a');
    await h.publish(event);
    const record = await h.waitForDelivery('acc_a', 'signed', event.id);
    assert.equal(record.status, 'succeeded');
    const sent = receiver.requests.filter((r) => r.url === '/signed');
    assert.equal(sent.length, 2);
    for (const attempt of sent) {
      assert.equal(attempt.headers['webhook-id'], event.id);
      assert.deepEqual(new Webhook(SIGNING_SECRET).verify(attempt.body, attempt.headers as Record<string, string>), { call: event.id });
    }
    assert.equal(record.attempts[0]?.request?.headers['webhook-signature'], '[redacted]');
    receiver.respond((_r, res) => res.end('ok'));
  });

  it("during a rotation's overlap the dispatcher signs with both secrets (previousSigningSecret as Firestore stores it); after it, with the current one", async () => {
    const overlap = (until: Date) => ({ name: 'rotating', events: ['call.created'], url: `${receiver.url}/rotating`, signingSecretName: 'SIGNING', previousSigningSecret: { name: 'SIGNING_OLD', until }, body: '{"call": "{{ event.id }}"}' });
    const verified = (request: { body: string; headers: Record<string, unknown> }) =>
      [SIGNING_SECRET, OLD_SIGNING_SECRET].map((secret) => {
        try {
          new Webhook(secret).verify(request.body, request.headers as Record<string, string>);
          return true;
        } catch {
          return false;
        }
      });
    for (const [until, expected] of [[new Date(Date.now() + 3_600_000), [true, true]], [new Date(Date.now() - 1000), [true, false]]] as const) {
      await h.setWebhook('acc_a', 'rotating', overlap(until));
      const event = eventOf('call.created', 'acc_a');
      await h.publish(event);
      assert.equal((await h.waitForDelivery('acc_a', 'rotating', event.id)).status, 'succeeded');
      const sent = receiver.requests.find((r) => r.url === '/rotating' && r.headers['webhook-id'] === event.id)!;
      assert.deepEqual(verified(sent), expected, `until ${until.toISOString()}: ${String(sent.headers['webhook-signature'])}`);
    }
  });

  it('a runaway template makes its own delivery invalid; the other webhooks of the event are delivered', async () => {
    await h.setWebhook('acc_a', 'runaway', { name: 'runaway', events: ['user.created'], url: `${receiver.url}/runaway`, format: 'text', body: '{% for i in (1..1000000000) %}{% for j in (1..1000000000) %}x{% endfor %}{% endfor %}' });
    await h.setWebhook('acc_a', 'healthy', { name: 'healthy', events: ['user.created'], url: `${receiver.url}/healthy` });
    const event = eventOf('user.created', 'acc_a');
    await h.publish(event);
    const runaway = await h.waitForDelivery('acc_a', 'runaway', event.id);
    assert.equal(runaway.status, 'invalid');
    assert.match(runaway.lastError ?? '', /^webhook runaway: body: template error/);
    assert.equal((await h.waitForDelivery('acc_a', 'healthy', event.id)).status, 'succeeded');
    assert.equal(receiver.requests.filter((r) => r.url === '/runaway').length, 0);
  });

  it('at most 50 webhooks per event are sent; the rest are recorded as invalid with the reason', async () => {
    const ids = Array.from({ length: 51 }, (_, i) => `many-${String(i).padStart(2, '0')}`);
    await Promise.all(ids.map((id) => h.setWebhook('acc_many', id, { name: id, events: ['segment.created'], url: `${receiver.url}/${id}` })));
    const event = eventOf('segment.created', 'acc_many');
    await h.publish(event);
    const records = await Promise.all(ids.map((id) => h.waitForDelivery('acc_many', id, event.id)));
    assert.deepEqual(records.slice(0, 50).map((r) => r.status), Array(50).fill('succeeded'));
    assert.equal(records[50]?.status, 'invalid');
    assert.match(records[50]?.lastError ?? '', /not sent: more than 50 webhooks of the account subscribe to segment.created/);
    assert.equal(receiver.requests.filter((r) => r.url.startsWith('/many-')).length, 50);
  });

  it('a secret echoed in a 4xx response never reaches the delivery log or the logs in clear', async () => {
    receiver.respond((r, res) => {
      res.statusCode = r.url.startsWith('/echo') ? 401 : 200;
      res.setHeader('x-echo', String(r.headers.authorization));
      res.end(`invalid token: ${r.headers.authorization} (${encodeURIComponent(String(r.headers.authorization))})`);
    });
    await h.setWebhook('acc_a', 'echo', {
      name: 'echo',
      events: ['call.created'],
      url: `${receiver.url}/echo?key={{ secrets.TOKEN }}`,
      headers: { 'X-Key': '{{ secrets.TOKEN }}', Authorization: 'Bearer {{ secrets.TOKEN }}' },
      body: '{"token": "{{ secrets.TOKEN }}"}',
    });
    const event = eventOf('call.created', 'acc_a');
    await h.publish(event);
    const record = await h.waitForDelivery('acc_a', 'echo', event.id);
    assert.equal(record.status, 'failed');
    const stored = JSON.stringify(record);
    assert.ok(!stored.includes('secret-of-a-123'), stored);
    assert.match(record.attempts[0]?.response?.body ?? '', /invalid token: Bearer \[secret\]/);
    // The dispatcher's own lines (its stdout and stderr, as Cloud Logging gets them), once it logged the attempt.
    await h.waitForLog((entry) => entry.eventId === event.id && /^attempt 1 \(primary\) failed/.test(entry.message));
    assert.ok(!JSON.stringify(h.logs).includes('secret-of-a-123'));
    for (const fn of Object.values(h.functions)) assert.ok(!fn.output().includes('secret-of-a-123'), `${fn.target} wrote the secret`);
  });
});
