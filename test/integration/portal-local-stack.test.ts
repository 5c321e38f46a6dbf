import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { portOpen } from '../support/ports.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PubSub } from '@google-cloud/pubsub';
import chromium from '@sparticuz/chromium';
import { chromium as playwright, type BrowserContext, type Page } from 'playwright-core';
import { DEMO_ACCOUNT } from '../../functions/dev/demo-webhook.ts';
import { freePort } from '../../functions/dev/emulators.ts';
import { sampleEvent } from '../support/kit.ts';
import { startLocalStack } from '../support/local-stack-process.ts';

// Issue 15's end-to-end proof: the portal in a real Chromium against `npm start`'s whole stack (the
// dispatcher behind Pub/Sub included), not a harness. The stack runs as `npm start -- --no-build` does
// (the build npm test just made), on the emulators of this test run, under its own project, API port and
// local directory (HOOKSHAPE_LOCAL_DIR), so it runs beside local-stack.test.ts. Through the UI only, from
// an empty account: create a webhook (variable picker, live preview, save) pointing at the stack's own
// receiver, publish a call.created event to the events topic as the platform does, and read the delivery
// with the receiver's answer on the Deliveries page.

describe('the portal against npm start\'s stack', async () => {
  const projectId = `portal-stack-${randomBytes(3).toString('hex')}`;
  const devApiKey = `hks_dev_${randomBytes(8).toString('hex')}`;
  const account = `acc_e2e_${randomBytes(3).toString('hex')}`;
  const work = mkdtempSync(join(tmpdir(), 'hookshape-portal-stack-'));
  const apiPortNumber = await freePort();
  const stack = startLocalStack({
    GOOGLE_CLOUD_PROJECT: projectId,
    HOOKSHAPE_DEV_API_KEY: devApiKey,
    HOOKSHAPE_API_PORT: String(apiPortNumber),
    HOOKSHAPE_LOCAL_DIR: join(work, 'local'),
  });
  let context: BrowserContext | undefined;

  after(async () => {
    await context?.close();
    stack.kill(); // only if the test failed before stopping the stack
    rmSync(work, { recursive: true, force: true });
  });

  /** What the page shows, and what the stack printed, for a failed wait. */
  const explain = async (page: Page, error: Error) => assert.fail(`${error.message}\n--- page ---\n${await page.locator('main').textContent()}\n--- npm start ---\n${stack.output}`);

  it('from an empty account, only through the UI: create a webhook to the stack\'s receiver (picker, preview, save), publish call.created, see it delivered with the receiver\'s answer; Ctrl-C leaves nothing running', async () => {
    await stack.ready(60_000);
    // What npm start printed: the API, its key, the demo account's portal link, the receiver.
    const apiUrl = /management API (http:\/\/127\.0\.0\.1:\d+)\/v1 /.exec(stack.output)?.[1];
    assert.equal(apiUrl, `http://127.0.0.1:${apiPortNumber}`, stack.output);
    const key = /API key \(HOOKSHAPE_DEV_API_KEY, every account\): (\S+)/.exec(stack.output)?.[1];
    assert.equal(key, devApiKey, stack.output);
    const demoLink = new RegExp(`portal for ${DEMO_ACCOUNT} \\(valid 1 h\\): (\\S+)`).exec(stack.output)?.[1];
    assert.ok(demoLink?.startsWith(`${apiUrl}/portal/#token=`), stack.output);
    const receiverUrl = /demo webhook accounts\/\S+ → (http:\/\/127\.0\.0\.1:\d+) /.exec(stack.output)?.[1];
    assert.ok(receiverUrl, stack.output);
    const functionPorts = [...stack.output.matchAll(/URL: http:\/\/localhost:(\d+)\//g)].map((match) => Number(match[1]));
    assert.equal(functionPorts.length, 6, stack.output);

    context = await playwright.launchPersistentContext(mkdtempSync(join(work, 'profile-')), {
      executablePath: await chromium.executablePath(),
      headless: true,
      args: [...chromium.args, '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
      viewport: { width: 1100, height: 800 },
    });

    // The printed link opens the demo account's portal, with the demo webhook and its delivery.
    const demo = await context.newPage();
    await demo.goto(demoLink!);
    await demo.getByRole('row', { name: /Airtable: calls table .* succeeded · / }).waitFor().catch((error: Error) => explain(demo, error));
    await demo.close();

    // An empty account's link, minted as the platform does, with the printed key.
    const session = await fetch(`${apiUrl}/v1/accounts/${account}/portal-sessions`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: '{"subject":"e2e"}' });
    assert.equal(session.status, 201, await session.clone().text());
    const page = await context.newPage();
    await page.goto(((await session.json()) as { url: string }).url);
    await page.getByRole('heading', { name: 'No webhooks yet' }).waitFor().catch((error: Error) => explain(page, error));

    await page.getByRole('link', { name: 'Create webhook' }).click();
    await page.getByRole('heading', { name: 'New webhook' }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('Calls to the local receiver');
    await page.getByLabel('Event types').selectOption('call.created');
    await page.getByLabel('URL template').fill(`${receiverUrl}/e2e/calls`);
    await page.locator('.cm-content').click();
    await page.keyboard.type('{"call": "');
    await page.getByLabel('Variable', { exact: true }).selectOption('data.call.id');
    await page.locator('#picker-info', { hasText: /^string .*Sample: "call_8GkT2pXq"/ }).waitFor();
    await page.getByRole('button', { name: 'Insert variable' }).click();
    await page.keyboard.type('", "email": "');
    await page.getByLabel('Variable', { exact: true }).selectOption('data.customer.email');
    await page.getByRole('button', { name: 'Insert variable' }).click();
    await page.keyboard.type('"}');
    // The live preview of the unsaved draft, rendered against the catalogue sample.
    await page.locator('#preview', { hasText: `POST ${receiverUrl}/e2e/calls` }).waitFor();
    await page.locator('#preview', { hasText: '{"call": "call_8GkT2pXq", "email": "maria.conceicao@example.com"}' }).waitFor().catch((error: Error) => explain(page, error));
    await page.locator('#preview-status', { hasText: 'Rendered against the call.created sample.' }).waitFor();
    await page.getByRole('button', { name: 'Save' }).click();
    await page.getByText(/^Saved at/).waitFor().catch((error: Error) => explain(page, error));

    // The platform publishes an event of the account to the events topic the stack wrote down.
    const stackFile = JSON.parse(readFileSync(join(work, 'local', 'stack.json'), 'utf8')) as { projectId: string; topic: string; pubsub: string };
    assert.equal(stackFile.projectId, projectId);
    const base = sampleEvent('call.created', account);
    const callId = `call_e2e_${randomBytes(3).toString('hex')}`;
    const event = { ...base, id: `evt_e2e_${randomBytes(4).toString('hex')}`, occurredAt: new Date().toISOString(), data: { ...base.data, call: { ...(base.data.call as object), id: callId } } };
    const pubsub = new PubSub({ projectId: stackFile.projectId, apiEndpoint: stackFile.pubsub });
    try {
      await pubsub.topic(stackFile.topic).publishMessage({ json: event, attributes: { type: event.type, accountId: event.accountId } });
    } finally {
      await pubsub.close();
    }

    // The Deliveries page, refreshed with its Filter button until the delivery is there and succeeded.
    await page.getByRole('link', { name: 'Deliveries' }).click();
    await page.getByRole('heading', { name: 'Deliveries' }).waitFor();
    const delivered = page.getByRole('button', { name: new RegExp(`^succeeded · call\\.created · ${event.id} · `) });
    for (const deadline = Date.now() + 30_000; ; ) {
      await page.getByRole('button', { name: 'Filter', exact: true }).click();
      const seen = await delivered.waitFor({ timeout: 1_000 }).then(() => true, () => false);
      if (seen) break;
      if (Date.now() > deadline) await explain(page, new Error(`no succeeded delivery of ${event.id} within 30 s`));
    }
    await delivered.click();
    await page.getByRole('heading', { name: `Delivery ${event.id}: succeeded` }).waitFor();
    await page.getByRole('heading', { name: /^Attempt 1 \(primary\) · succeeded · / }).waitFor();
    const request = (await page.getByLabel('Request', { exact: true }).textContent()) ?? '';
    assert.ok(request.startsWith(`POST ${receiverUrl}/e2e/calls\n`), request);
    assert.ok(request.endsWith(`{"call": "${callId}", "email": "maria.conceicao@example.com"}`), `rendered against the published event, not the sample:\n${request}`);
    const response = (await page.getByLabel('Response', { exact: true }).textContent()) ?? '';
    assert.match(response, /^200\n/, response);
    assert.match(response, /content-type: application\/json/i, response);
    assert.ok(response.endsWith('\n\n{"received":true}'), `the receiver's answer as text:\n${response}`);
    // And the stack's receiver printed that request.
    assert.match(stack.output, new RegExp(`POST /e2e/calls\\n[^]*"call": "${callId}"`));
    await page.close();

    // Ctrl-C reaches the whole process group, npm included; nothing of it is left.
    const { code, signal } = await stack.interrupt();
    assert.ok(code === 0 || signal === 'SIGINT', `stopped cleanly (code ${code}, signal ${signal})\n${stack.output}`);
    const receiverPort = Number(new URL(receiverUrl!).port);
    for (const deadline = Date.now() + 10_000; ; ) {
      const groupAlive = stack.groupAlive();
      const open = (await Promise.all([apiPortNumber, receiverPort, ...functionPorts].map(async (port) => ((await portOpen(port)) ? [port] : [])))).flat();
      if (!groupAlive && open.length === 0) break;
      if (Date.now() > deadline) assert.fail(`left behind after Ctrl-C: ${groupAlive ? `processes of group ${stack.child.pid}; ` : ''}ports ${open.join(', ') || 'none'}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
});
