/**
 * `npm start`: the whole system on this machine. Starts the Pub/Sub and Firestore emulators (or uses
 * PUBSUB_EMULATOR_HOST / FIRESTORE_EMULATOR_HOST), the Cloud Tasks emulator, both functions under the
 * functions framework (build/functions, as deployed, each function in its own process, validateWebhook,
 * deadLetterNotify (behind the events' dead-letter topic) and the repair sweep included — the sweep every few seconds, as Cloud Scheduler runs it), and a receiver that prints what it gets; seeds a demo
 * webhook, publishes one sample event and shows the delivered request. Keeps running until Ctrl-C.
 * Options: --no-build (use build/functions as it is). Dev tooling, not deployed.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { Firestore } from '@google-cloud/firestore';
import { build } from '../../scripts/build.ts';
import { DEFAULT_PROJECT_ID, loadConfig } from '../src/config/runtime-config.ts';
import { sampleEvent } from '../src/events/event-catalogue.ts';
import { webhookPath } from '../src/firestore/firestore-layout.ts';
import { startCloudTasksEmulator } from './cloud-tasks-emulator/cloud-tasks-emulator.ts';
import { DEMO_ACCOUNT, DEMO_SECRETS, DEMO_WEBHOOK_ID, demoWebhook } from './demo-webhook.ts';
import { createDeadLetterTopic, createEventsTopic, createOperationsTopic, createRetryQueue } from './emulator-wiring.ts';
import { ensureEmulators, freePort } from './emulators.ts';
import { LOCAL_DIR, STACK_FILE } from './local-paths.ts';
import { startFunctionProcess } from './function-process.ts';
import { startLocalValidationTrigger } from './local-validation-trigger.ts';
import { apiPort, startLocalApi } from './local-api.ts';
import { FirestoreApiKeyStore } from '../src/firestore/firestore-api-keys.ts';
import { silentLogger } from '../src/log/logger.ts';


const color = (code: number) => (text: string) => (process.stdout.isTTY ? `\u001b[${code}m${text}\u001b[0m` : text);
const dim = color(2);
const green = color(32);
const cyan = color(36);
const say = (text: string) => console.log(`${cyan('[hookshape]')} ${text}`);

function startReceiver(port: number): Promise<void> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let shown = body;
      try {
        shown = JSON.stringify(JSON.parse(body), null, 2);
      } catch {
        // not JSON: print as received
      }
      const headers = Object.entries(req.headers).map(([name, value]) => `  ${name}: ${String(value)}`).join('\n');
      console.log(`\n${green('━━ receiver got a request ━━')}\n${req.method} ${req.url}\n${headers}\n\n${shown}\n${green('━━━━━━━━━━━━━━━━━━━━━━━━━━━')}\n`);
      res.setHeader('content-type', 'application/json');
      res.end('{"received":true}');
    });
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
}

/** Prints a function's structured log lines (severity and message), and any other line as it is. */
function forwardLines(target: string, hideDebug = false): (line: string) => void {
  const prefix = dim(`[${target}]`);
  return (line) => {
    try {
      const entry = JSON.parse(line) as { severity?: string; message?: string };
      if (hideDebug && entry.severity === 'DEBUG') return;
      console.log(`${prefix} ${entry.severity ?? ''} ${entry.message ?? line}`);
    } catch {
      console.log(`${prefix} ${line}`);
    }
  };
}

async function main(): Promise<void> {
  process.env.METADATA_SERVER_DETECTION = 'none';
  const projectId = process.env.GOOGLE_CLOUD_PROJECT ?? DEFAULT_PROJECT_ID;
  const cleanups: Array<() => unknown> = [];
  let stopping = false;
  const shutdown = async () => {
    // Ctrl-C reaches this process twice (from the terminal's process group, and forwarded by npm): the
    // second must not end it before its functions and emulators are stopped.
    if (stopping) return;
    stopping = true;
    say('stopping...');
    await Promise.allSettled(cleanups.reverse().map((cleanup) => cleanup()));
    process.exit(0);
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);

  if (!process.argv.includes('--no-build')) {
    say('building the functions (npm run build)...');
    await build();
  }
  say('starting the Pub/Sub and Firestore emulators (about 20 s the first time)...');
  const emulators = await ensureEmulators(projectId);
  cleanups.push(() => emulators.stop());
  process.env.PUBSUB_EMULATOR_HOST = emulators.hosts.pubsub;
  process.env.FIRESTORE_EMULATOR_HOST = emulators.hosts.firestore;

  const tasks = await startCloudTasksEmulator({ log: (line) => console.log(`${dim('[cloud-tasks]')} ${line}`) });
  cleanups.push(() => tasks.stop());
  const [dispatchPort, workerPort, repairPort, deadLetterPort, receiverPort] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  await startReceiver(receiverPort);
  const receiverUrl = `http://127.0.0.1:${receiverPort}`;

  mkdirSync(LOCAL_DIR, { recursive: true });
  const secretsFile = join(LOCAL_DIR, 'secrets.json');
  writeFileSync(secretsFile, `${JSON.stringify({ [DEMO_ACCOUNT]: DEMO_SECRETS }, null, 2)}\n`);
  const workerUrl = `http://127.0.0.1:${workerPort}/`;
  const env: NodeJS.ProcessEnv = {
    GOOGLE_CLOUD_PROJECT: projectId,
    FIRESTORE_EMULATOR_HOST: emulators.hosts.firestore,
    CLOUD_TASKS_EMULATOR_HOST: tasks.address,
    RETRY_WORKER_URL: workerUrl,
    RETRY_BASE_DELAY_SECONDS: process.env.RETRY_BASE_DELAY_SECONDS ?? '5',
    ALLOW_LOOPBACK_DESTINATIONS: 'true', // the demo receiver is on 127.0.0.1; production refuses loopback
    LOCAL_SECRETS_FILE: secretsFile,
    WEBHOOK_CACHE_SECONDS: process.env.WEBHOOK_CACHE_SECONDS ?? '2',
    // A retry whose task was lost is enqueued again after a minute here (10 minutes in the cloud).
    RETRY_OVERDUE_SECONDS: process.env.RETRY_OVERDUE_SECONDS ?? '60',
    METADATA_SERVER_DETECTION: 'none',
  };
  const config = loadConfig(env);
  // The functions from build/functions, each in its own process, as Cloud Functions runs them.
  await Promise.all(
    ([['dispatchEvent', dispatchPort], ['retryWorker', workerPort], ['repairDeliveries', repairPort], ['deadLetterNotify', deadLetterPort]] as const).map(async ([target, port]) => {
      const fn = await startFunctionProcess({ target, port, env, onLine: forwardLines(target, target === 'repairDeliveries') });
      cleanups.push(() => fn.stop());
    }),
  );
  // The repair sweep every few seconds (Cloud Scheduler runs it every 5 minutes in the cloud).
  const sweepEvery = Number(process.env.HOOKSHAPE_REPAIR_SECONDS ?? '5') * 1000;
  const sweep = setInterval(() => {
    fetch(`http://127.0.0.1:${repairPort}/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }).catch((error: Error) => console.log(`${dim('[repairDeliveries]')} sweep not run: ${error.message}`));
  }, sweepEvery);
  cleanups.push(() => clearInterval(sweep));
  await createRetryQueue({ address: tasks.address, projectId, location: config.tasks.location, queue: config.tasks.queue });
  const pubsub = await createEventsTopic({ projectId, topic: config.eventsTopic, dispatchUrl: `http://127.0.0.1:${dispatchPort}` });
  cleanups.push(() => pubsub.close());
  await createOperationsTopic({ pubsub, projectId, topic: config.operationsTopic, dispatchUrl: `http://127.0.0.1:${dispatchPort}` });
  // The events' dead-letter topic, pushed to deadLetterNotify (the emulator applies no dead-letter
  // policy: publish there what Pub/Sub would forward to see a hookshape.event.dead_lettered).
  await createDeadLetterTopic({ pubsub, projectId, eventsTopic: config.eventsTopic, notifyUrl: `http://127.0.0.1:${deadLetterPort}` });

  const db = new Firestore({ projectId });
  cleanups.push(() => db.terminate());
  // validateWebhook (from build/functions, in its own process), fed by a listener standing in for
  // Eventarc's Firestore trigger: every webhook written to the emulator gets its `validation` field, as
  // in the cloud.
  const stopValidation = await startLocalValidationTrigger({
    db,
    projectId,
    env,
    onLine: forwardLines('validateWebhook', true),
    onError: (message) => console.log(`${dim('[validateWebhook]')} ${message}`),
  });
  cleanups.push(stopValidation);
  await db.doc(webhookPath(DEMO_ACCOUNT, DEMO_WEBHOOK_ID)).set(demoWebhook(`${receiverUrl}/v0/appDemo/Calls`));

  // The management API (build/functions, target api). HOOKSHAPE_DEV_API_KEY, when set, is registered as
  // a key for every account; otherwise a key for the demo account is made for this run and printed.
  const devApiKey = process.env.HOOKSHAPE_DEV_API_KEY?.trim() || undefined;
  const api = await startLocalApi({
    env,
    signingKeysFile: join(LOCAL_DIR, 'api-jwt-keys.json'),
    port: apiPort(),
    db,
    devApiKey,
    onOutput: (chunk) => chunk.split('\n').filter(Boolean).forEach(forwardLines('api', true)),
  });
  cleanups.push(() => api.stop());
  const apiKey = devApiKey ?? (await new FirestoreApiKeyStore(db, silentLogger).create({ name: 'npm start demo key', accountId: DEMO_ACCOUNT, createdBy: 'local-stack' })).key;
  // What the hookshape CLI and publish-sample need to work against this stack (LocalStackFile).
  const stack = {
    projectId,
    topic: config.eventsTopic,
    pubsub: emulators.hosts.pubsub,
    firestore: emulators.hosts.firestore,
    tasks: tasks.address,
    tasksLocation: config.tasks.location,
    tasksQueue: config.tasks.queue,
    retryWorkerUrl: workerUrl,
    apiUrl: api.url,
    repairUrl: `http://127.0.0.1:${repairPort}/`,
    secretsFile,
    receiverUrl,
  };
  writeFileSync(STACK_FILE, `${JSON.stringify(stack, null, 2)}\n`);
  // A stale file would send the CLI to emulators that are gone.
  cleanups.push(() => rmSync(STACK_FILE, { force: true }));
  say(`demo webhook accounts/${DEMO_ACCOUNT}/webhooks/${DEMO_WEBHOOK_ID} → ${receiverUrl} (Airtable-style JSON on call.created)`);

  const event = { ...sampleEvent('call.created', DEMO_ACCOUNT), id: `evt_local_${Date.now().toString(36)}` };
  await pubsub.topic(config.eventsTopic).publishMessage({ json: event, attributes: { type: event.type, accountId: event.accountId } });
  say(`published ${event.type} ${event.id}; waiting for the delivery...`);
  const deadline = Date.now() + 60_000;
  for (;;) {
    const record = await db.doc(`${webhookPath(DEMO_ACCOUNT, DEMO_WEBHOOK_ID)}/deliveries/${event.id}`).get();
    const status = record.get('status') as string | undefined;
    if (status && status !== 'pending') {
      say(`${status === 'succeeded' ? green('delivered') : status}: delivery log at accounts/${DEMO_ACCOUNT}/webhooks/${DEMO_WEBHOOK_ID}/deliveries/${event.id} (status ${status})`);
      break;
    }
    if (Date.now() > deadline) throw new Error('the demo event was not delivered within 60 s');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  say(`management API ${api.url}/v1 (OpenAPI ${api.url}/v1/openapi.json)`);
  say(`API key${devApiKey ? ' (HOOKSHAPE_DEV_API_KEY, every account)' : ` for ${DEMO_ACCOUNT} (this run)`}: ${apiKey}`);
  say(dim(`  curl -H "Authorization: Bearer ${apiKey}" ${api.url}/v1/accounts/${DEMO_ACCOUNT}/webhooks`));
  // The portal link as the platform gets it: a portal session minted through the API (an hour).
  const portal = await fetch(`${api.url}/v1/accounts/${DEMO_ACCOUNT}/portal-sessions`, { method: 'POST', headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' }, body: '{"subject":"npm-start"}' });
  if (portal.ok) say(`portal for ${DEMO_ACCOUNT} (valid 1 h): ${((await portal.json()) as { url: string }).url}`);
  else say(`portal link not made: the API answered ${portal.status}`);
  say(`ready. Firestore emulator ${emulators.hosts.firestore}, Pub/Sub emulator ${emulators.hosts.pubsub}, project ${projectId}`);
  say(`publish more from another terminal: npm run publish-sample -- call.created   (any catalogue type)`);
  say('press Ctrl-C to stop');
}

main().catch((error: Error) => {
  console.error(`[hookshape] the local stack failed: ${error.message}`);
  process.exit(1);
});
