/**
 * Section: push → receiver latency of the function alone. The bench itself posts Pub/Sub push
 * requests (the body the Pub/Sub service posts; the functions framework turns it into a CloudEvent)
 * to warm function processes, `c` at a time in closed loops, and times each from the push to the
 * moment the webhook's request head reaches a receiver on loopback. The Pub/Sub emulator is not in
 * the path: its push loop is slow and serial and would dominate.
 *
 * Variants, alternating in rounds:
 *  - dispatch: build/functions, as deployed, against the Firestore emulator: it finds the webhook
 *    (cached per instance), claims the delivery (one Firestore round trip before the send), renders,
 *    sends, then records the result (one more, after);
 *  - bare: cold-start/bare-push, a handler that decodes the message and makes one got request;
 *  - bareClaim: cold-start/bare-claim-push, the smallest handler that does not send a redelivered
 *    event twice and records the answer: decode, claim the event (a Firestore create), one got
 *    request, the result (a create). The issue's bare handler writes nothing; this one makes ours' writes;
 *  - bareFirestore: cold-start/bare-function, the bare libraries doing the same Firestore I/O as a
 *    delivery without caching (query, create, POST, update): where the Firestore round trips go.
 * A separate pass through the counting proxy (lib/firestore-rpc-proxy.ts) counts the dispatch
 * function's round trips per push, so the timed runs do not pay the proxy's hop.
 */
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Firestore } from '@google-cloud/firestore';
import { webhookPath } from '../../functions/src/firestore/firestore-layout.ts';
import { progress, sectionOptions, writeResult } from '../lib/child.ts';
import { benchEvent, DEMO_ACCOUNT, DEMO_WEBHOOK_ID, demoWebhook } from '../lib/fixtures.ts';
import { BARE_DIR, BENCH_DIR, BUILD_DIR, type FunctionProcess } from '../lib/function-process.ts';
import { startRpcProxy, type RpcCounts } from '../lib/firestore-rpc-proxy.ts';
import { round } from '../lib/measure.ts';
import { quantile, secretsDir, startArrivalReceiver, startListening, type ArrivalReceiver } from '../lib/push-bench.ts';

export interface PushLatencyOptions {
  concurrencies: number[];
  /** Pushes per variant per round at each concurrency (at least the concurrency). */
  pushes: number;
  rounds: number;
  /** Pushes to the counting pass. */
  counted: number;
}

const BARE_PUSH_DIR = join(BENCH_DIR, 'cold-start', 'bare-push');
const BARE_CLAIM_PUSH_DIR = join(BENCH_DIR, 'cold-start', 'bare-claim-push');
const VARIANTS = ['dispatch', 'bare', 'bareClaim', 'bareFirestore'] as const;
type Variant = (typeof VARIANTS)[number];

export interface LatencyFigures {
  p50Ms: number;
  p95Ms: number;
  samples: number;
}

export interface PushLatencyAt {
  concurrency: number;
  ours: LatencyFigures;
  bare: LatencyFigures;
  bareClaim: LatencyFigures;
  bareFirestore: LatencyFigures;
  /** ours ÷ bare. */
  p50Ratio: number;
  p95Ratio: number;
  /** CPU of the dispatch function process per delivery at this concurrency (its Firestore client included), ms. */
  cpuMsPerDelivery: number;
  /** ours ÷ bareClaim: against a handler that also claims the event before its request leaves. */
  p50RatioVsBareClaim: number;
  p95RatioVsBareClaim: number;
  /** ours ÷ bareFirestore (context: the same Firestore I/O done by the bare libraries). */
  p50RatioVsBareFirestore: number;
  p95RatioVsBareFirestore: number;
}

export interface PushLatencyResult {
  byConcurrency: Record<string, PushLatencyAt>;
  /** The dispatch function's Firestore round trips per push on a warm instance, from the proxy. */
  firestore: { pushes: number; roundTripsPerPush: number; beforeSendPerPush: number; calls: RpcCounts['calls']; writesPerPush: number; readsPerPush: number };
}

const figures = (samples: number[]): LatencyFigures => ({ p50Ms: round(quantile(samples, 0.5), 2), p95Ms: round(quantile(samples, 0.95), 2), samples: samples.length });

/** `total` pushes, `concurrency` at a time; each timed from the push to its request's arrival. */
async function timedPushes(fn: FunctionProcess, agent: Agent, receiver: ArrivalReceiver, label: string, concurrency: number, total: number): Promise<number[]> {
  const samples: number[] = [];
  let next = 0;
  const tag = randomBytes(3).toString('hex');
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const event = benchEvent(`evt_pl_${label}_${tag}_${next++}`);
        const arrived = receiver.expect(event.id);
        const sent = performance.now();
        const status = await fn.push(event, agent);
        if (status >= 300) throw new Error(`${label}: the function answered ${status}\n${fn.stderr()}`);
        const at = await Promise.race([arrived, new Promise<undefined>((resolve) => setTimeout(resolve, 10_000))]);
        if (at === undefined) throw new Error(`${label}: the request of ${event.id} never reached the receiver\n${fn.stderr()}`);
        samples.push(at - sent);
      }
    }),
  );
  return samples;
}

async function main(): Promise<void> {
  const options = sectionOptions<PushLatencyOptions>();
  const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST;
  if (!firestoreHost) throw new Error('FIRESTORE_EMULATOR_HOST is not set');
  const projectId = `bench-push-${randomBytes(4).toString('hex')}`;
  const receiver = await startArrivalReceiver();
  const secrets = secretsDir();
  const db = new Firestore({ projectId });
  await db.doc(webhookPath(DEMO_ACCOUNT, DEMO_WEBHOOK_ID)).set(demoWebhook(`${receiver.url}/v0/appDemo/Calls`));
  await db.terminate();

  const env = { LOCAL_SECRETS_FILE: secrets.file, BENCH_RECEIVER_URL: receiver.url };
  const sources: Record<Variant, string> = { dispatch: BUILD_DIR, bare: BARE_PUSH_DIR, bareClaim: BARE_CLAIM_PUSH_DIR, bareFirestore: BARE_DIR };
  const processes = {} as Record<Variant, FunctionProcess>;
  const agents = {} as Record<Variant, Agent>;
  const proxy = await startRpcProxy(firestoreHost);
  let counted: FunctionProcess | undefined;
  try {
    for (const name of VARIANTS) {
      processes[name] = await startListening(sources[name], projectId, firestoreHost, env);
      agents[name] = new Agent({ keepAlive: true, maxSockets: 256 });
    }
    // Warm up: modules loaded, clients connected, the webhook cached, V8 past its first tiers.
    progress('push latency: warming up the three functions...');
    for (const name of VARIANTS) await timedPushes(processes[name], agents[name], receiver, `${name}_warm`, 8, 200);

    const cpu = Object.fromEntries(options.concurrencies.map((c) => [c, { ms: 0, deliveries: 0 }])) as Record<number, { ms: number; deliveries: number }>;
    const samples = Object.fromEntries(options.concurrencies.map((c) => [c, Object.fromEntries(VARIANTS.map((name) => [name, [] as number[]]))])) as Record<number, Record<Variant, number[]>>;
    for (let r = 0; r < options.rounds; r++) {
      for (const c of options.concurrencies) {
        const order = VARIANTS.map((_, i) => VARIANTS[(i + r) % VARIANTS.length]!);
        if (r % 2 === 1) order.reverse();
        // A round's pushes go in slices that alternate across the variants (5 of 20 at concurrency 1,
        // whole blocks where a slice would be under two waves of c): the emulator's state drifts within
        // a round, and a variant timed in one block of 100 got whatever state the block before left.
        const total = Math.max(c, options.pushes);
        const slices = Math.max(1, Math.min(5, Math.floor(total / (2 * c))));
        for (let slice = 0; slice < slices; slice++) {
          const size = Math.floor(total / slices) + (slice < total % slices ? 1 : 0);
          for (const name of slice % 2 === 0 ? order : [...order].reverse()) {
            const cpu0 = processes[name].cpuMs();
            const timed = await timedPushes(processes[name], agents[name], receiver, `${name}_${c}`, c, size);
            if (name === 'dispatch') {
              // Each push waited for the function's answer, sent after the result was recorded: all of it counts.
              cpu[c]!.ms += processes[name].cpuMs() - cpu0;
              cpu[c]!.deliveries += timed.length;
            }
            samples[c]![name].push(...timed);
          }
        }
      }
      progress(`push latency: round ${r + 1} of ${options.rounds}`);
    }

    // The counting pass: a dispatch process of its own, through the proxy, warmed up, then counted.
    counted = await startListening(BUILD_DIR, projectId, proxy.host, env);
    const countedAgent = new Agent({ keepAlive: true });
    await timedPushes(counted, countedAgent, receiver, 'counted_warm', 1, 5);
    proxy.reset();
    // One at a time, and the arrival noted: what happened before the send is what the proxy had seen.
    let beforeSend = 0;
    for (let i = 0; i < options.counted; i++) {
      const event = benchEvent(`evt_pl_counted_${randomBytes(4).toString('hex')}`);
      const callsBefore = Object.values(proxy.counts().calls).reduce((a, b) => a + b, 0);
      const arrived = receiver.expect(event.id).then(() => Object.values(proxy.counts().calls).reduce((a, b) => a + b, 0));
      await counted.push(event, countedAgent);
      beforeSend += (await arrived) - callsBefore;
    }
    countedAgent.destroy();
    const counts = proxy.counts();
    const calls = Object.values(counts.calls).reduce((a, b) => a + b, 0);

    const byConcurrency: Record<string, PushLatencyAt> = {};
    for (const c of options.concurrencies) {
      const [ours, bare, bareClaim, bareFirestore] = VARIANTS.map((name) => figures(samples[c]![name]));
      byConcurrency[String(c)] = {
        concurrency: c,
        ours: ours!,
        bare: bare!,
        bareClaim: bareClaim!,
        bareFirestore: bareFirestore!,
        cpuMsPerDelivery: round(cpu[c]!.ms / cpu[c]!.deliveries, 3),
        p50Ratio: round(ours!.p50Ms / bare!.p50Ms),
        p95Ratio: round(ours!.p95Ms / bare!.p95Ms),
        p50RatioVsBareClaim: round(ours!.p50Ms / bareClaim!.p50Ms),
        p95RatioVsBareClaim: round(ours!.p95Ms / bareClaim!.p95Ms),
        p50RatioVsBareFirestore: round(ours!.p50Ms / bareFirestore!.p50Ms),
        p95RatioVsBareFirestore: round(ours!.p95Ms / bareFirestore!.p95Ms),
      };
    }
    writeResult({
      byConcurrency,
      firestore: {
        pushes: options.counted,
        roundTripsPerPush: round(calls / options.counted),
        beforeSendPerPush: round(beforeSend / options.counted),
        calls: counts.calls,
        writesPerPush: round(counts.writes / options.counted),
        readsPerPush: round((counts.documentsRead + counts.emptyQueries) / options.counted),
      },
    } satisfies PushLatencyResult);
  } finally {
    for (const agent of Object.values(agents)) agent.destroy();
    await Promise.all([...Object.values(processes), ...(counted ? [counted] : [])].map((fn) => fn.stop()));
    await proxy.close();
    await receiver.close();
    secrets.remove();
  }
  process.exit(0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
