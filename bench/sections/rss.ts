/**
 * Section: memory with 1,000 deliveries in flight, as a 512 MiB Cloud Functions instance (terraform's
 * `function_memory`) holds them. The built dispatch function runs under the functions framework (the
 * deployed shape, plain JavaScript) against the Firestore emulator, in a memory cgroup with the
 * instance's limit so that Node sizes V8's heap as on the instance (or, where no cgroup can be made,
 * with the V8 flags that give that sizing: see lib/instance-memory.ts). It receives 1,000 Pub/Sub
 * pushes at once for a webhook whose receiver holds every answer. Once all 1,000 events are claimed
 * (each delivery is then in the sender: on a socket or queued for one; the bare function's delivery
 * records, written before its request, count the same), the function's resident set
 * size is read from /proc several times; then the receiver answers them all. The bare function of the
 * cold-start section goes through the same, for comparison; so does the dispatch function with this
 * machine's default heap sizing (4144 MiB heap, 16 MiB semi-spaces), which is what this figure used to be.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent } from 'node:http';
import { Firestore } from '@google-cloud/firestore';
import { DEFAULT_MAX_WEBHOOKS_PER_EVENT } from '../../functions/src/config/runtime-config.ts';
import { ACCOUNTS, EVENT_CLAIMS, webhookPath, webhooksPath } from '../../functions/src/firestore/firestore-layout.ts';
import { progress, sectionOptions, writeResult } from '../lib/child.ts';
import { benchEvent, DEMO_ACCOUNT, DEMO_WEBHOOK_ID, demoWebhook } from '../lib/fixtures.ts';
import { BARE_DIR, BENCH_DIR, BUILD_DIR, functionEnv, sleep, startFunction } from '../lib/function-process.ts';
import { type Emulation, type HeapSizing, INSTANCE_MEMORY_BYTES, type InstanceMemory, prepareInstanceMemory, readHeapReport } from '../lib/instance-memory.ts';
import { round } from '../lib/measure.ts';
import { startReceiverProcess } from '../lib/receiver.ts';

export interface RssOptions {
  inFlight: number;
  /** Also measure the bare function (skipped when the run is short of time). */
  bare: boolean;
  /** The instance's memory, MiB (default: terraform's 512Mi). */
  instanceMiB?: number;
}

/** Figures a run did not reach (the function was OOM-killed first) are null. */
export interface RssRun {
  /** The kernel's OOM killer killed the function: it outgrew the instance's memory. */
  oomKilled: boolean;
  /** RSS after one warm-up delivery, before the burst. */
  idleMB: number | null;
  /** Highest RSS read while every delivery was waiting on the receiver. */
  atInFlightMB: number | null;
  /** The process's high-water mark at the end (when OOM-killed: the highest RSS read before). */
  peakMB: number | null;
  /** The cgroup's peak charge (null without a cgroup); not RSS: see InstanceOutcome.cgroupPeakBytes. */
  cgroupPeakMB: number | null;
  /** How V8 sized the heap, seen from inside the function process (new space: the largest it grew to). */
  heap: { constrainedMemory: number | null; heapSizeLimitMB: number; maxNewSpaceMB: number } | null;
  /** Requests open at the receiver at most (the others wait in the agent for one of its sockets). */
  receiverOpen: number | null;
  answered: number;
  seconds: number | null;
  /** CPU of the function process per delivery over the burst (Firestore client included), ms. */
  cpuMsPerDelivery: number | null;
}

export interface RssResult {
  inFlight: number;
  /** How the instance was emulated (cgroup or V8 flags, and why), with the check that both size the heap alike. */
  instance: Emulation;
  /** The built dispatch function as the instance runs it: the headline figure. */
  dispatch: RssRun;
  /** The bare function, as the instance runs it (null when not measured, or it failed: bareError). */
  bare: RssRun | null;
  /** Why the bare comparison failed; it does not take the headline figure down with it. */
  bareError: string | null;
  /** The dispatch function with this machine's default heap sizing (context: no cgroup, no flags). */
  dispatchHostDefaultHeap: RssRun;
  /**
   * The same 1,000 deliveries in the deployed shape (Shape): 20 pushes of 50 webhooks, the dispatch
   * function and bare + claim with the same fan-out, as the instance runs them; null when not measured
   * (the run was short of time) or failed (deployedShapeError).
   */
  deployedShape: { pushes: number; webhooksPerEvent: number; dispatch: RssRun; bareClaim: RssRun | null } | null;
  deployedShapeError: string | null;
}

/** The deployment's defaults: dispatch_concurrency (terraform/variables.tf: pushes one instance takes at once) and MAX_WEBHOOKS_PER_EVENT. */
const DEPLOYED = { pushes: 20, webhooksPerEvent: DEFAULT_MAX_WEBHOOKS_PER_EVENT };

const BARE_CLAIM_DIR = join(BENCH_DIR, 'cold-start', 'bare-claim-push');
const MB = 1024 * 1024;
const mb = (bytes: number | null) => (bytes === null ? null : round(bytes / MB, 1));
const heapFigures = (heap: HeapSizing | null): RssRun['heap'] =>
  heap && { constrainedMemory: heap.constrainedMemory, heapSizeLimitMB: mb(heap.heapSizeLimit)!, maxNewSpaceMB: mb(heap.maxNewSpace)! };

/**
 * How the deliveries arrive: `webhooksPerEvent` 1 is one push per delivery (the headline figure);
 * 50 is the deployed shape, `dispatch_concurrency` (20) pushes each fanned out to MAX_WEBHOOKS_PER_EVENT
 * (50) webhooks, since Cloud Run never gives one instance more pushes at once than its concurrency.
 * `counter`: what says every delivery is in the sender — the dispatch function's event claims, or the
 * bare + claim function's claims (cold-start/bare-claim-push: its warm-up POST is answered, the burst's
 * go to the receiver's held path, named in each event).
 */
export interface Shape {
  webhooksPerEvent: number;
  counter: 'claims' | 'bareClaims';
}
const ONE_PER_PUSH: Shape = { webhooksPerEvent: 1, counter: 'claims' };

/** Without an instance: this machine's default heap sizing. */
export async function measure(source: string, inFlight: number, instance?: InstanceMemory, shape: Shape = ONE_PER_PUSH): Promise<RssRun> {
  const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST!;
  const receiver = await startReceiverProcess();
  const projectId = `bench-rss-${randomBytes(4).toString('hex')}`;
  const warmAccount = `${DEMO_ACCOUNT}_warm`;
  const accountId = `${DEMO_ACCOUNT}_burst`;
  const db = new Firestore({ projectId });
  await db.doc(webhookPath(warmAccount, DEMO_WEBHOOK_ID)).set(demoWebhook(`${receiver.url}/v0/appDemo/Calls`));
  const held = { ...demoWebhook(`${receiver.url}/hold/v0/appDemo/Calls`), timeoutSeconds: 30 };
  if (shape.webhooksPerEvent === 1) await db.doc(webhookPath(accountId, DEMO_WEBHOOK_ID)).set(held);
  else {
    const batch = db.batch();
    for (let i = 0; i < shape.webhooksPerEvent; i++) batch.set(db.doc(webhookPath(accountId, `wh_${String(i).padStart(3, '0')}`)), { ...held, name: `Held ${i}` });
    await batch.commit();
  }
  const pushCount = Math.ceil(inFlight / shape.webhooksPerEvent);
  const deliveries = db.collection(`${webhooksPath(accountId)}/${DEMO_WEBHOOK_ID}/deliveries`);
  // The dispatch function claims each event before its request leaves and writes the delivery's record
  // only with its first answer (held here): its claims say the deliveries are in the sender. The bare
  // function writes a record before its request, as the dispatcher did before the event claim.
  const eventClaims = db.collection(`${ACCOUNTS}/${accountId}/${EVENT_CLAIMS}`);
  const bareClaims = db.collection('bareClaims');
  const recorded =
    shape.counter === 'bareClaims'
      ? async () => (await bareClaims.count().get()).data().count * shape.webhooksPerEvent
      : async () => Math.max((await deliveries.count().get()).data().count, (await eventClaims.count().get()).data().count * shape.webhooksPerEvent);

  const heapReport = join(tmpdir(), `hookshape-rss-heap-${randomBytes(4).toString('hex')}.json`);
  const extraEnv = shape.counter === 'bareClaims' ? { BENCH_RECEIVER_URL: receiver.url } : {};
  const fn = await startFunction(source, functionEnv(projectId, { FIRESTORE_EMULATOR_HOST: firestoreHost, ...extraEnv }), { instance, heapReport });
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  // Every RSS read also counts towards the highest seen, the only peak left when the process is OOM-killed.
  let highest = 0;
  const rss = () => {
    const now = fn.memory().rss;
    // A process that died but is not reaped yet has no VmRSS.
    if (!Number.isFinite(now)) throw new Error(`the function exited\n${fn.stderr()}`);
    highest = Math.max(highest, now);
    return now;
  };
  let idle: number | null = null;
  let atInFlight: number | null = null;
  let hwm: number | null = null;
  let receiverOpen: number | null = null;
  let answered = 0;
  let seconds: number | null = null;
  let cpuMs: number | null = null;
  let failure: unknown;
  let diedOnItsOwn = false;
  try {
    await fn.waitForPort();
    // Warm up with one delivery answered at once: clients connected, modules loaded.
    const warm = await fn.push(benchEvent(`evt_rss_warm_${randomBytes(3).toString('hex')}`, warmAccount), agent);
    if (warm >= 300) throw new Error(`warm-up push answered ${warm}\n${fn.stderr()}`);
    await sleep(300);
    idle = rss();
    const cpu0 = fn.cpuMs();

    const t0 = performance.now();
    const eventOf = (i: number) => {
      const event = benchEvent(`evt_rss_${randomBytes(4).toString('hex')}_${i}`, accountId);
      return shape.counter === 'bareClaims' ? { ...event, fanOut: shape.webhooksPerEvent, receiverPath: '/hold/v0/appDemo/Calls' } : event;
    };
    const pushes = Array.from({ length: pushCount }, (_, i) => fn.push(eventOf(i), agent));
    // Settled, not all: a process killed mid-burst fails its pushes, and that is a result, not a crash.
    const all = Promise.allSettled(pushes);
    // A push answered before the receiver is released failed (its delivery may never be recorded): say so at once.
    const failures: string[] = [];
    for (const push of pushes) push.then((status) => void (status >= 300 && failures.push(`HTTP ${status}`)), (error: NodeJS.ErrnoException) => void failures.push(error.code ?? error.message));
    const deadline = performance.now() + 60_000;
    for (;;) {
      if (fn.exited()) throw new Error(`the function exited while the deliveries were being recorded\n${fn.stderr()}`);
      rss();
      const count = await recorded();
      if (count >= inFlight) break;
      if (failures.length > 0 && count + failures.length * shape.webhooksPerEvent >= inFlight) {
        const kinds = new Map<string, number>();
        for (const failure of failures) kinds.set(failure, (kinds.get(failure) ?? 0) + 1);
        throw new Error(`${count} of ${inFlight} deliveries were recorded; ${failures.length} pushes failed (${[...kinds].map(([kind, n]) => `${n} × ${kind}`).join(', ')})\n${fn.stderr()}`);
      }
      if (performance.now() > deadline) throw new Error(`only ${count} of ${inFlight} deliveries were recorded within 60 s\n${fn.stderr()}`);
      await sleep(200);
    }
    // Fanned out, a claim comes before its event's requests: wait until the receiver's open requests stop growing.
    if (shape.webhooksPerEvent > 1) {
      let open = -1;
      for (let stable = 0; stable < 3 && performance.now() < deadline; ) {
        await sleep(150);
        const now = (await receiver.stats()).open;
        stable = now === open ? stable + 1 : 0;
        open = now;
      }
    }
    let highestInFlight = 0;
    for (let i = 0; i < 10; i++) {
      await sleep(50);
      highestInFlight = Math.max(highestInFlight, rss());
    }
    atInFlight = highestInFlight;
    receiverOpen = (await receiver.stats()).maxOpen;
    await receiver.release();
    const statuses = await all;
    seconds = (performance.now() - t0) / 1000;
    answered = statuses.filter((status) => status.status === 'fulfilled' && status.value < 300).length;
    if (!fn.exited()) {
      cpuMs = fn.cpuMs() - cpu0;
      const { hwm: mark } = fn.memory();
      if (Number.isFinite(mark)) hwm = mark;
    }
  } catch (error) {
    failure = error;
  } finally {
    agent.destroy();
    diedOnItsOwn = fn.exited();
    await fn.stop();
    receiver.stop();
    await db.terminate();
  }
  const oomKilled = (fn.instanceOutcome()?.oomKills ?? 0) > 0;
  const heap = readHeapReport(heapReport);
  rmSync(heapReport, { force: true });
  if (!oomKilled && failure) throw failure;
  if (!oomKilled && diedOnItsOwn) throw new Error(`the function exited during the run, not OOM-killed\n${fn.stderr()}`);
  const cgroupPeak = fn.instanceOutcome()?.cgroupPeakBytes ?? null;
  return {
    oomKilled,
    idleMB: mb(idle),
    atInFlightMB: mb(atInFlight),
    peakMB: mb(hwm ?? (oomKilled ? highest : null)),
    cgroupPeakMB: mb(cgroupPeak),
    heap: heapFigures(heap),
    receiverOpen,
    answered,
    seconds: seconds === null ? null : round(seconds, 1),
    cpuMsPerDelivery: cpuMs === null ? null : round(cpuMs / inFlight, 2),
  };
}

async function main(): Promise<void> {
  const options = sectionOptions<RssOptions>();
  if (!process.env.FIRESTORE_EMULATOR_HOST) throw new Error('FIRESTORE_EMULATOR_HOST is not set');
  const instance = await prepareInstanceMemory(options.instanceMiB ? options.instanceMiB * MB : INSTANCE_MEMORY_BYTES);
  const { emulation } = instance;
  const as = `a ${emulation.memoryBytes / MB} MiB instance`;
  progress(`rss: ${options.inFlight} deliveries waiting on a receiver that holds its answers: the dispatch function${options.bare ? ' and the bare function' : ''} as ${as}, the dispatch function with this machine's default heap`);
  progress(`rss: ${as} = ${emulation.description}`);
  if (emulation.check.agree === false) progress(`rss: the cgroup and ${emulation.check.flags.join(' ')} size the heap differently (see instance.check)`);
  const dispatch = await measure(BUILD_DIR, options.inFlight, instance);
  const dispatchHostDefaultHeap = await measure(BUILD_DIR, options.inFlight);
  let bare: RssRun | null = null;
  let bareError: string | null = null;
  try {
    if (options.bare) bare = await measure(BARE_DIR, options.inFlight, instance);
  } catch (error) {
    bareError = (error as Error).message.split('\n')[0]!;
    progress(`rss: the bare function failed: ${(error as Error).message}`);
  }
  let deployedShape: RssResult['deployedShape'] = null;
  let deployedShapeError: string | null = null;
  if (options.bare) {
    const inFlight = DEPLOYED.pushes * DEPLOYED.webhooksPerEvent;
    progress(`rss: the deployed shape, ${DEPLOYED.pushes} pushes of ${DEPLOYED.webhooksPerEvent} webhooks: the dispatch function and bare + claim as ${as}`);
    try {
      const dispatchDeployed = await measure(BUILD_DIR, inFlight, instance, { webhooksPerEvent: DEPLOYED.webhooksPerEvent, counter: 'claims' });
      let bareClaim: RssRun | null = null;
      try {
        bareClaim = await measure(BARE_CLAIM_DIR, inFlight, instance, { webhooksPerEvent: DEPLOYED.webhooksPerEvent, counter: 'bareClaims' });
      } catch (error) {
        progress(`rss: bare + claim in the deployed shape failed: ${(error as Error).message}`);
      }
      deployedShape = { ...DEPLOYED, dispatch: dispatchDeployed, bareClaim };
    } catch (error) {
      deployedShapeError = (error as Error).message.split('\n')[0]!;
      progress(`rss: the deployed shape failed: ${(error as Error).message}`);
    }
  }
  writeResult({ inFlight: options.inFlight, instance: emulation, dispatch, bare, bareError, dispatchHostDefaultHeap, deployedShape, deployedShapeError } satisfies RssResult);
  process.exit(0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
