import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { portOpen } from '../support/ports.ts';
import { after, describe, it } from 'node:test';
import { PubSub } from '@google-cloud/pubsub';
import { DEMO_ACCOUNT, DEMO_WEBHOOK_ID } from '../../functions/dev/demo-webhook.ts';
import { CLAIM_LEASE_MS, DEFAULT_EVENTS_TOPIC, deliveryPath, Firestore, pendingDelivery, sampleEvent, webhookPath } from '../support/kit.ts';
import { startLocalStack } from '../support/local-stack-process.ts';
import { deadLetterTopicOf } from '../../functions/dev/emulator-wiring.ts';
import { freePort } from '../../functions/dev/emulators.ts';

// The README's first command, as a newcomer runs it: `npm start` must show a webhook being delivered.
// It reuses the emulators of this test run (PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST, as the README
// allows) and the build npm test just made (--no-build), under its own project id.
describe('npm start', async () => {
  const projectId = `stack-${randomBytes(3).toString('hex')}`;
  // HOOKSHAPE_DEV_API_KEY: the local stack's contract, a platform key for every account.
  const devApiKey = `hks_dev_${randomBytes(8).toString('hex')}`;
  const apiPortNumber = await freePort();
  const stack = startLocalStack({ GOOGLE_CLOUD_PROJECT: projectId, HOOKSHAPE_DEV_API_KEY: devApiKey, HOOKSHAPE_API_PORT: String(apiPortNumber) });
  // Only if the test failed before stopping it.
  after(() => stack.kill());

  it('starts the stack, delivers the demo event to the local receiver, repairs a delivery left behind, and stops on Ctrl-C', async () => {
    await stack.ready(90_000);
    assert.match(stack.output, /receiver got a request/);
    assert.match(stack.output, /POST \/v0\/appDemo\/Calls/);
    assert.match(stack.output, /"Customer": "Maria da Conceição"/);
    assert.match(stack.output, /authorization: Bearer pat_local_demo_token/);
    assert.match(stack.output, /delivered: delivery log at accounts\/acc_demo\/webhooks\/airtable-calls\/deliveries\/evt_local_\w+ \(status succeeded\)/);
    const ports = [...stack.output.matchAll(/URL: http:\/\/localhost:(\d+)\//g)].map((match) => Number(match[1]));
    assert.equal(ports.length, 6, 'the six functions served, each in its own process');
    for (const target of ['dispatchEvent', 'retryWorker', 'validateWebhook', 'repairDeliveries', 'deadLetterNotify', 'api']) assert.match(stack.output, new RegExp(`Function: ${target}$`, 'm'));
    // The management API at HOOKSHAPE_API_PORT, printed, and the dev key valid for every account.
    const apiUrl = `http://127.0.0.1:${apiPortNumber}`;
    assert.match(stack.output, new RegExp(`management API ${apiUrl}/v1 \\(OpenAPI ${apiUrl}/v1/openapi.json\\)`));
    assert.match(stack.output, new RegExp(`API key \\(HOOKSHAPE_DEV_API_KEY, every account\\): ${devApiKey}`));
    const listed = await fetch(`${apiUrl}/v1/accounts/${DEMO_ACCOUNT}/webhooks`, { headers: { authorization: `Bearer ${devApiKey}` } });
    assert.equal(listed.status, 200);
    assert.deepEqual(((await listed.json()) as { data: Array<{ id: string }> }).data.map((webhook) => webhook.id), [DEMO_WEBHOOK_ID]);
    const other = await fetch(`${apiUrl}/v1/accounts/acc_other/webhooks`, { headers: { authorization: `Bearer ${devApiKey}` } });
    assert.equal(other.status, 200, 'the dev key is a key for every account');
    await other.text();
    const refused = await fetch(`${apiUrl}/v1/accounts/${DEMO_ACCOUNT}/webhooks`, { headers: { authorization: 'Bearer hks_not_a_key' } });
    assert.equal(refused.status, 401);
    await refused.text();
    // validateWebhook (build/functions) validated the seeded demo webhook and wrote the result into it.
    const db = new Firestore({ projectId });
    try {
      let validation: { ok?: boolean } | undefined;
      for (const deadline = Date.now() + 20_000; !validation && Date.now() < deadline; ) {
        validation = (await db.doc(webhookPath(DEMO_ACCOUNT, DEMO_WEBHOOK_ID)).get()).get('validation') as { ok?: boolean } | undefined;
        if (!validation) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.equal(validation?.ok, true, `the demo webhook's validation: ${JSON.stringify(validation)}\n${stack.output}`);
      // What a function process that died mid-send leaves behind; the stack's own sweep moves it on.
      const orphan = { ...sampleEvent('call.created', DEMO_ACCOUNT), id: `evt_orphan_${randomBytes(3).toString('hex')}` };
      const path = deliveryPath(DEMO_ACCOUNT, DEMO_WEBHOOK_ID, orphan.id);
      await db.doc(path).create(pendingDelivery(orphan, DEMO_WEBHOOK_ID, 'demo', new Date(Date.now() - CLAIM_LEASE_MS - 5_000), 30));
      let status: string | undefined;
      for (const deadline = Date.now() + 30_000; status !== 'succeeded' && Date.now() < deadline; ) {
        status = (await db.doc(path).get()).get('status') as string | undefined;
        if (status !== 'succeeded') await new Promise((resolve) => setTimeout(resolve, 250));
      }
      assert.equal(status, 'succeeded', `the sweep of npm start recovered the orphaned delivery\n${stack.output}`);
      assert.match(stack.output, /\[repairDeliveries\] NOTICE recovered a delivery without a live owner/);
    } finally {
      await db.terminate();
    }
    // The events' dead-letter topic is pushed to deadLetterNotify, which announces what Pub/Sub forwards there.
    const pubsub = new PubSub({ projectId });
    try {
      const dead = { ...sampleEvent('call.created', DEMO_ACCOUNT), id: `evt_dead_${randomBytes(3).toString('hex')}` };
      await pubsub.topic(deadLetterTopicOf(DEFAULT_EVENTS_TOPIC)).publishMessage({ json: dead, attributes: { type: dead.type, accountId: dead.accountId, CloudPubSubDeadLetterSourceDeliveryCount: '5' } });
      for (const deadline = Date.now() + 20_000; !stack.output.includes('[deadLetterNotify] INFO operational event hookshape.event.dead_lettered published') && Date.now() < deadline; ) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      assert.match(stack.output, new RegExp(`\\[deadLetterNotify\\] ERROR event ${dead.id} dead-lettered after 5 deliveries`));
      assert.match(stack.output, /\[deadLetterNotify\] INFO operational event hookshape\.event\.dead_lettered published/, stack.output);
    } finally {
      await pubsub.close();
    }
    // Ctrl-C reaches the whole process group, npm included.
    const { code, signal } = await stack.interrupt();
    assert.ok(code === 0 || signal === 'SIGINT', `stopped cleanly (code ${code}, signal ${signal})`);
    // The functions end on their own signal, after npm has: nothing of the stack may be left within 10 s.
    for (const deadline = Date.now() + 10_000; ; ) {
      const groupAlive = stack.groupAlive();
      const open = (await Promise.all(ports.map(async (port) => ((await portOpen(port)) ? [port] : [])))).flat();
      if (!groupAlive && open.length === 0) break;
      if (Date.now() > deadline) assert.fail(`left behind after Ctrl-C: ${groupAlive ? `processes of group ${stack.child.pid}; ` : ''}ports of functions ${open.join(', ') || 'none'}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
});
