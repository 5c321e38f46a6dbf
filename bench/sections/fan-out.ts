/**
 * Section: one event fanned out to 1, 10 and 100 webhooks of one account. The built dispatch function
 * (warm, its webhooks cached) gets one Pub/Sub push; the wall time runs from the push to the head of
 * the last webhook's request at a loopback receiver, and to the function's answer (every delivery
 * sent and recorded). The bare comparison is the same number of got POSTs of the same body, sent in
 * parallel from the bench process to the same receiver: start → last head, and → last answer.
 * Alternating, `events` times per webhook count, medians.
 *
 * The Firestore figures come from a second dispatch process behind the counting proxy (the timed one
 * does not pay the proxy's hop): for each webhook count, a fresh account's first event (the webhooks'
 * query), then `events` more within the cache period.
 */
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Firestore } from '@google-cloud/firestore';
import got from 'got';
import { webhookPath } from '../../functions/src/firestore/firestore-layout.ts';
import { progress, sectionOptions, writeResult } from '../lib/child.ts';
import { benchEvent, DEMO_ACCOUNT, demoWebhook } from '../lib/fixtures.ts';
import { BENCH_DIR, BUILD_DIR, type FunctionProcess } from '../lib/function-process.ts';
import { startRpcProxy } from '../lib/firestore-rpc-proxy.ts';
import { median, round } from '../lib/measure.ts';
import { secretsDir, startArrivalReceiver, startListening } from '../lib/push-bench.ts';

export interface FanOutOptions {
  webhookCounts: number[];
  /** Timed events per webhook count (alternating with the bare requests). */
  events: number;
}

export interface FanOutAt {
  webhooks: number;
  /** Median ms from the push to the last request's head at the receiver, and to the function's answer. */
  oursToLastRequestMs: number;
  oursToAnswerMs: number;
  /** Median ms from the start of N parallel bare got POSTs to the last head, and to the last answer. */
  bareToLastRequestMs: number;
  bareToAnswerMs: number;
  /** ours ÷ bare, to the last request's head (the receiver's view). */
  wallRatio: number;
  /**
   * The bare libraries with ours' writes, as a function under the functions framework
   * (cold-start/bare-claim-push): the event's claim (a create), then the N POSTs in parallel, each
   * followed by its result's create. Push → last head, and ours ÷ it.
   */
  bareClaimToLastRequestMs: number;
  wallRatioVsBareClaim: number;
  /** ours ÷ bare, to the answer (ours includes recording every result). */
  answerRatio: number;
  /** Webhook queries of the first event of a cache period, and of the events after it (warm). */
  configQueriesFirstEvent: number;
  configQueriesPerWarmEvent: number;
  /** Billed reads of the first event (one per webhook document), and per warm event. */
  configReadsFirstEvent: number;
  configReadsPerWarmEvent: number;
  /** Firestore writes per delivery (claim + result) and commits per event, over the warm events. */
  writesPerDelivery: number;
  commitsPerEvent: number;
}

export interface FanOutResult {
  byWebhooks: Record<string, FanOutAt>;
}

const BARE_CLAIM_PUSH_DIR = join(BENCH_DIR, 'cold-start', 'bare-claim-push');
const accountFor = (n: number, tag: string) => `${DEMO_ACCOUNT}_fan${n}_${tag}`;

async function seed(projectId: string, accountId: string, n: number, url: string): Promise<void> {
  const db = new Firestore({ projectId });
  const batch = db.batch();
  for (let i = 0; i < n; i++) batch.set(db.doc(webhookPath(accountId, `wh_${String(i).padStart(3, '0')}`)), { ...demoWebhook(url), name: `Airtable ${i}` });
  await batch.commit();
  await db.terminate();
}

async function main(): Promise<void> {
  const options = sectionOptions<FanOutOptions>();
  const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST;
  if (!firestoreHost) throw new Error('FIRESTORE_EMULATOR_HOST is not set');
  const projectId = `bench-fan-${randomBytes(4).toString('hex')}`;
  const tag = randomBytes(3).toString('hex');
  const receiver = await startArrivalReceiver();
  const url = `${receiver.url}/v0/appDemo/Calls`;
  const timedAccounts = options.webhookCounts.map((n) => accountFor(n, `${tag}t`));
  const countedAccounts = options.webhookCounts.map((n) => accountFor(n, `${tag}c`));
  for (const [i, n] of options.webhookCounts.entries()) {
    await seed(projectId, timedAccounts[i]!, n, url);
    await seed(projectId, countedAccounts[i]!, n, url);
  }
  const secrets = secretsDir([...timedAccounts, ...countedAccounts]);
  // A cache period longer than the section: every timed event after the first finds its webhooks cached.
  // MAX_WEBHOOKS_PER_EVENT: the deployment's fan-out limit (50 by default) raised to the largest count measured.
  const env = { LOCAL_SECRETS_FILE: secrets.file, WEBHOOK_CACHE_SECONDS: '600', MAX_WEBHOOKS_PER_EVENT: String(Math.max(50, ...options.webhookCounts)) };
  const proxy = await startRpcProxy(firestoreHost);
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const bareClient = got.extend({ agent: { http: agent }, retry: { limit: 0 }, throwHttpErrors: false });
  const processes: FunctionProcess[] = [];
  try {
    const timed = await startListening(BUILD_DIR, projectId, firestoreHost, env);
    processes.push(timed);
    const counted = await startListening(BUILD_DIR, projectId, proxy.host, env);
    processes.push(counted);
    const pushAgent = new Agent({ keepAlive: true });

    const ours = async (accountId: string, n: number) => {
      const event = benchEvent(`evt_fan_${randomBytes(5).toString('hex')}`, accountId);
      const last = receiver.expect(event.id, n);
      const sent = performance.now();
      const status = await timed.push(event, pushAgent);
      const answered = performance.now();
      if (status >= 300) throw new Error(`the function answered ${status}\n${timed.stderr()}`);
      const at = await Promise.race([last, new Promise<undefined>((resolve) => setTimeout(resolve, 20_000))]);
      if (at === undefined) throw new Error(`not all ${n} requests of ${event.id} reached the receiver within 20 s (it saw ${receiver.total()} in all)\n${timed.stderr()}`);
      return { lastRequest: at - sent, answer: answered - sent };
    };
    const body = JSON.stringify(benchEvent());
    const bare = async (n: number) => {
      const id = `evt_bare_${randomBytes(5).toString('hex')}`;
      const last = receiver.expect(id, n);
      const sent = performance.now();
      await Promise.all(Array.from({ length: n }, () => bareClient.post(url, { headers: { 'content-type': 'application/json', 'x-hookshape-event': id }, body })));
      const answered = performance.now();
      return { lastRequest: (await last) - sent, answer: answered - sent };
    };

    // The bare libraries with ours' writes, as a function under the functions framework too (the
    // framework's domain makes every promise cost more, ours and theirs alike).
    const bareClaimFunction = await startListening(BARE_CLAIM_PUSH_DIR, projectId, firestoreHost, { BENCH_RECEIVER_URL: receiver.url });
    processes.push(bareClaimFunction);
    const bareClaim = async (n: number) => {
      const event = { ...benchEvent(`evt_bareclaim_${randomBytes(5).toString('hex')}`), fanOut: n };
      const last = receiver.expect(event.id, n);
      const sent = performance.now();
      const status = await bareClaimFunction.push(event, pushAgent);
      if (status >= 300) throw new Error(`the bare + claim function answered ${status}\n${bareClaimFunction.stderr()}`);
      return (await last) - sent;
    };

    // V8 optimises a path after some hundreds of runs: every path is warmed up on single-webhook events
    // first (as the push section warms its functions), so that the small fan-outs, timed on a handful
    // of events, measure warm code as a busy instance runs it, not its first events.
    progress('fan-out: warming up the function and the bare paths (150 events each)...');
    for (let w = 0; w < 150; w++) {
      await ours(timedAccounts[0]!, options.webhookCounts[0]!);
      await bare(1);
      await bareClaim(1);
    }

    const byWebhooks: Record<string, FanOutAt> = {};
    for (const [i, n] of options.webhookCounts.entries()) {
      // Warm: the first event caches the account's webhooks; both paths' connections open.
      for (let w = 0; w < 3; w++) {
        await ours(timedAccounts[i]!, n);
        await bare(n);
        await bareClaim(n);
      }
      const oursRuns: Array<{ lastRequest: number; answer: number }> = [];
      const bareRuns: Array<{ lastRequest: number; answer: number }> = [];
      const bareClaimRuns: number[] = [];
      for (let e = 0; e < options.events; e++) {
        if (e % 2 === 0) {
          oursRuns.push(await ours(timedAccounts[i]!, n));
          bareRuns.push(await bare(n));
          bareClaimRuns.push(await bareClaim(n));
        } else {
          bareClaimRuns.push(await bareClaim(n));
          bareRuns.push(await bare(n));
          oursRuns.push(await ours(timedAccounts[i]!, n));
        }
      }

      // Counted: the first event of the period, then the warm ones.
      proxy.reset();
      await counted.push(benchEvent(`evt_fan_first_${randomBytes(4).toString('hex')}`, countedAccounts[i]!), pushAgent);
      const first = proxy.counts();
      proxy.reset();
      for (let e = 0; e < options.events; e++) await counted.push(benchEvent(`evt_fan_warm_${randomBytes(4).toString('hex')}`, countedAccounts[i]!), pushAgent);
      const warm = proxy.counts();

      const oursLast = median(oursRuns.map((run) => run.lastRequest));
      const oursAnswer = median(oursRuns.map((run) => run.answer));
      const bareLast = median(bareRuns.map((run) => run.lastRequest));
      const bareAnswer = median(bareRuns.map((run) => run.answer));
      const bareClaimLast = median(bareClaimRuns);
      byWebhooks[String(n)] = {
        webhooks: n,
        oursToLastRequestMs: round(oursLast, 1),
        oursToAnswerMs: round(oursAnswer, 1),
        bareToLastRequestMs: round(bareLast, 1),
        bareToAnswerMs: round(bareAnswer, 1),
        wallRatio: round(oursLast / bareLast),
        bareClaimToLastRequestMs: round(bareClaimLast, 1),
        wallRatioVsBareClaim: round(oursLast / bareClaimLast),
        answerRatio: round(oursAnswer / bareAnswer),
        configQueriesFirstEvent: first.calls.RunQuery ?? 0,
        configQueriesPerWarmEvent: round((warm.calls.RunQuery ?? 0) / options.events),
        configReadsFirstEvent: first.documentsRead + first.emptyQueries,
        configReadsPerWarmEvent: round((warm.documentsRead + warm.emptyQueries) / options.events),
        writesPerDelivery: round(warm.writes / (options.events * n)),
        commitsPerEvent: round((warm.calls.Commit ?? 0) / options.events),
      };
      progress(`fan-out: ${n} webhook(s): to the last request ${round(oursLast, 1)} ms vs bare ${round(bareLast, 1)} ms (${byWebhooks[String(n)]!.wallRatio}x), bare + claim ${round(bareClaimLast, 1)} ms (${byWebhooks[String(n)]!.wallRatioVsBareClaim}x)`);
    }
    pushAgent.destroy();
    writeResult({ byWebhooks } satisfies FanOutResult);
  } finally {
    agent.destroy();
    await Promise.all(processes.map((fn) => fn.stop()));
    await proxy.close();
    await receiver.close();
    secrets.remove();
  }
  process.exit(0);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await main();
