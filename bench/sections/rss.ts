/**
 * Section: memory with 1,000 deliveries in flight. The built dispatch function runs under the functions
 * framework (the deployed shape, plain JavaScript) against the Firestore emulator; it receives 1,000
 * Pub/Sub pushes at once for a webhook whose receiver holds every answer. Once all 1,000 delivery
 * records exist (each delivery is then in the sender: on a socket or queued for one), the function's
 * resident set size is read from /proc several times; then the receiver answers them all. The bare
 * function of the cold-start section goes through the same, for comparison.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Agent } from 'node:http';
import { Firestore } from '@google-cloud/firestore';
import { webhookPath, webhooksPath } from '../../functions/src/firestore/firestore-layout.ts';
import { progress, sectionOptions, writeResult } from '../lib/child.ts';
import { benchEvent, DEMO_ACCOUNT, DEMO_WEBHOOK_ID, demoWebhook } from '../lib/fixtures.ts';
import { BARE_DIR, BUILD_DIR, functionEnv, sleep, startFunction } from '../lib/function-process.ts';
import { round } from '../lib/measure.ts';
import { startReceiverProcess } from '../lib/receiver.ts';

export interface RssOptions {
  inFlight: number;
  /** Also measure the bare function (skipped when the run is short of time). */
  bare: boolean;
}

export interface RssRun {
  /** RSS after one warm-up delivery, before the burst. */
  idleMB: number;
  /** Highest RSS read while every delivery was waiting on the receiver. */
  atInFlightMB: number;
  /** The process's high-water mark once every delivery was recorded. */
  peakMB: number;
  /** Requests open at the receiver at most (the others wait in the agent for one of its sockets). */
  receiverOpen: number;
  answered: number;
  seconds: number;
  /** CPU of the function process per delivery over the burst (Firestore client included), ms. */
  cpuMsPerDelivery: number;
}

export interface RssResult {
  inFlight: number;
  /** The built dispatch function as deployed. */
  dispatch: RssRun;
  /** The same with V8's young generation capped (NODE_OPTIONS=--max-semi-space-size=2). */
  dispatchSmallYoungGen: RssRun;
  bare: RssRun | null;
}

export const SMALL_YOUNG_GEN = '--max-semi-space-size=2';

const MB = 1024 * 1024;

export async function measure(source: string, inFlight: number, nodeFlags: string[] = []): Promise<RssRun> {
  const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST!;
  const receiver = await startReceiverProcess();
  const projectId = `bench-rss-${randomBytes(4).toString('hex')}`;
  const warmAccount = `${DEMO_ACCOUNT}_warm`;
  const accountId = `${DEMO_ACCOUNT}_burst`;
  const db = new Firestore({ projectId });
  await db.doc(webhookPath(warmAccount, DEMO_WEBHOOK_ID)).set(demoWebhook(`${receiver.url}/v0/appDemo/Calls`));
  await db.doc(webhookPath(accountId, DEMO_WEBHOOK_ID)).set({ ...demoWebhook(`${receiver.url}/hold/v0/appDemo/Calls`), timeoutSeconds: 30 });
  const deliveries = db.collection(`${webhooksPath(accountId)}/${DEMO_WEBHOOK_ID}/deliveries`);

  const fn = await startFunction(source, functionEnv(projectId, { FIRESTORE_EMULATOR_HOST: firestoreHost }), { nodeFlags });
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  try {
    await fn.waitForPort();
    // Warm up with one delivery answered at once: clients connected, modules loaded.
    const warm = await fn.push(benchEvent(`evt_rss_warm_${randomBytes(3).toString('hex')}`, warmAccount), agent);
    if (warm >= 300) throw new Error(`warm-up push answered ${warm}\n${fn.stderr()}`);
    await sleep(300);
    const idle = fn.memory().rss;
    const cpu0 = fn.cpuMs();

    const t0 = performance.now();
    const pushes = Array.from({ length: inFlight }, (_, i) => fn.push(benchEvent(`evt_rss_${randomBytes(4).toString('hex')}_${i}`, accountId), agent));
    const all = Promise.all(pushes);
    const deadline = performance.now() + 60_000;
    for (;;) {
      const count = (await deliveries.count().get()).data().count;
      if (count >= inFlight) break;
      if (performance.now() > deadline) throw new Error(`only ${count} of ${inFlight} deliveries were recorded within 60 s\n${fn.stderr()}`);
      await sleep(200);
    }
    let atInFlight = 0;
    for (let i = 0; i < 10; i++) {
      await sleep(50);
      atInFlight = Math.max(atInFlight, fn.memory().rss);
    }
    const { maxOpen } = await receiver.stats();
    await receiver.release();
    const statuses = await all;
    const seconds = (performance.now() - t0) / 1000;
    const cpuMs = fn.cpuMs() - cpu0;
    return {
      idleMB: round(idle / MB, 1),
      atInFlightMB: round(atInFlight / MB, 1),
      peakMB: round(fn.memory().hwm / MB, 1),
      receiverOpen: maxOpen,
      answered: statuses.filter((status) => status < 300).length,
      seconds: round(seconds, 1),
      cpuMsPerDelivery: round(cpuMs / inFlight, 2),
    };
  } finally {
    agent.destroy();
    await fn.stop();
    receiver.stop();
    await db.terminate();
  }
}

async function main(): Promise<void> {
  const options = sectionOptions<RssOptions>();
  if (!process.env.FIRESTORE_EMULATOR_HOST) throw new Error('FIRESTORE_EMULATOR_HOST is not set');
  progress(`rss: ${options.inFlight} deliveries waiting on a receiver that holds its answers: the dispatch function, the same with ${SMALL_YOUNG_GEN}${options.bare ? ', the bare function' : ''}`);
  const dispatch = await measure(BUILD_DIR, options.inFlight);
  const dispatchSmallYoungGen = await measure(BUILD_DIR, options.inFlight, [SMALL_YOUNG_GEN]);
  const bare = options.bare ? await measure(BARE_DIR, options.inFlight) : null;
  writeResult({ inFlight: options.inFlight, dispatch, dispatchSmallYoungGen, bare } satisfies RssResult);
  process.exit(0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
