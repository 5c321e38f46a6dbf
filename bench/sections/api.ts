/**
 * Section: the management API as deployed — the `api` function of build/functions (the esbuild bundle)
 * under the functions framework — on the Firestore emulator, authenticated with a platform API key made
 * as `hookshape keys create` makes it (FirestoreApiKeyStore.create).
 *
 * The bundle is copied when the section starts (bench/.out/api-bundle), so that a build in the shared
 * checkout cannot change it under a run.
 *
 * 1. The list-deliveries page. One account's delivery log of 10,000 records (five webhooks; each record
 *    built as the dispatcher builds it, pendingDelivery, then ended with its attempts: succeeded,
 *    succeeded after a retry, failed after four attempts, invalid), written in batches. Then
 *    GET /v1/accounts/{a}/deliveries?limit=50 — the first page, the page after its nextCursor, and the
 *    first page of status=failed — over a keep-alive connection, timed in this process until the last
 *    byte, next to the bare floor: the same collection-group query (FirestoreDeliveryBrowser's: accountId
 *    ==, [status ==,] createdAt desc, __name__ desc, startAfter, limit 51) run with @google-cloud/firestore
 *    in this process, plus JSON.stringify of the page. Runs alternate (order reversed every other
 *    page); the ratio is API p50 ÷ bare p50. CPU per request (the api process's from /proc, this
 *    process's for the bare query) is the cross-check that the emulator's own time does not dilute; one
 *    document read between runs (what the API's key lookup costs) is context. Each API page is checked
 *    to hold the same records, in the same order, as the bare one.
 * 2. Cold start: process start → the first 200 of an authenticated GET of that first page, the api
 *    function next to a bare function loading only its libraries (bench/cold-start/bare-api/: hono,
 *    @hono/zod-openapi, jose, the Firestore client) and answering the same request the same way, in a
 *    project of its own with 120 records (see below). Alternating rounds after one unmeasured run of
 *    each; the ratio is the median of per-round ratios. One more traced run of each lists the packages
 *    loaded by the first answer.
 */
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FieldPath, Firestore, Timestamp, type Query } from '@google-cloud/firestore';
import { ensureSigningKeys } from '../../functions/dev/local-api.ts';
import { attemptRecord, type AttemptRecord, type DeliveryStatus } from '../../functions/src/delivery/delivery-record.ts';
import { pendingDelivery } from '../../functions/src/delivery/lease.ts';
import type { StoredDelivery } from '../../functions/src/delivery/ports.ts';
import { FirestoreApiKeyStore } from '../../functions/src/firestore/firestore-api-keys.ts';
import { apiKeyPath, DELIVERIES, deliveryPath, webhookPath } from '../../functions/src/firestore/firestore-layout.ts';
import { silentLogger } from '../../functions/src/log/logger.ts';
import { buildRequest, type OutgoingRequest } from '../../functions/src/render/build-request.ts';
import { TemplateEngine } from '../../functions/src/render/template-engine.ts';
import { classifyOutcome } from '../../functions/src/send/classify-outcome.ts';
import type { SendResult } from '../../functions/src/send/http-sender.ts';
import { progress, sectionOptions, writeResult } from '../lib/child.ts';
import { benchEvent, benchWebhook, DEMO_SECRETS, demoWebhook } from '../lib/fixtures.ts';
import { BENCH_DIR, BUILD_DIR, functionEnv, OUT, ROOT, sleep, startFunction } from '../lib/function-process.ts';
import { BUILD_METAFILE } from '../../scripts/build.ts';
import { median, round } from '../lib/measure.ts';

export interface ApiOptions {
  records: number;
  webhooks: number;
  /** Timed requests per variant and page. */
  runs: number;
  warmup: number;
  coldRounds: number;
}

export interface LatencyStats {
  p50: number;
  p95: number;
  min: number;
  runs: number[];
}

export interface PageResult {
  path: string;
  records: number;
  /** Bytes of the API's answer, and of the bare JSON. */
  apiBytes: number;
  bareBytes: number;
  /** The API page holds the same records, in the same order, as the bare query's. */
  same: boolean;
  api: LatencyStats;
  bare: LatencyStats;
  /** API p50 ÷ bare p50, API p95 ÷ bare p95, and the median of per-run ratios (cross-check). */
  ratioP50: number;
  ratioP95: number;
  ratioPerRunMedian: number;
  /** API p50 − bare p50, ms. */
  overheadMs: number;
  /** CPU per request: the api process's (all threads, /proc, 10 ms ticks summed over the runs) and this process's for the bare query. */
  cpuMsPerRequest: { api: number; bare: number };
  cpuRatio: number;
}

export interface ColdVariant {
  firstAnswerMs: number;
  listenMs: number;
  requestMs: number;
  cpuMs: number;
  runs: Array<{ firstAnswerMs: number; listenMs: number; requestMs: number; cpuMs: number }>;
}

export interface ApiResult {
  seed: { records: number; webhooks: number; statuses: Record<string, number>; medianRecordBytes: number; seconds: number };
  pages: Record<string, PageResult>;
  /** p50 of one document read (the API's key lookup) in this process, between the runs: context. */
  keyReadMs: number;
  cold: {
    variants: Record<'api' | 'bare', ColdVariant>;
    ratio: number;
    ratioCpu: number;
    ratiosPerRound: number[];
    request: string;
    /** Source files loaded by the first answer, by package (for the bundle: the files esbuild put in the chunks it loaded). */
    modules: { api: Record<string, number>; bare: Record<string, number>; onlyInApi: Record<string, number> };
  };
  seconds: { seed: number; latency: number; cold: number };
}

const ACCOUNT = 'acc_bench_api';
const BARE_API_DIR = join(BENCH_DIR, 'cold-start', 'bare-api');
const PAGE = 50;
/** Records per batch write, and batches in flight, while seeding. */
const SEED_BATCH = 250;
const SEED_CONCURRENCY = 4;
/** Records of the cold-start project: a full first page and more (see the cold-start part). */
const COLD_RECORDS = 120;

const TRACE = join(BENCH_DIR, 'cold-start', 'trace-modules.ts');
/**
 * A copy of build/functions taken when the section starts, served from inside the repository (so the
 * bundle's external packages resolve from node_modules as they do from build/functions): the checkout
 * is shared, and a build that rewrites build/functions while a function starts breaks that start.
 */
const BUNDLE_DIR = join(OUT, 'api-bundle', 'functions');
const BUNDLE_METAFILE = join(OUT, 'api-bundle', 'functions-metafile.json');

async function snapshotBundle(): Promise<void> {
  const state = () => readdirSync(BUILD_DIR).map((name) => `${name}:${statSync(join(BUILD_DIR, name)).mtimeMs}`).join(',') + statSync(BUILD_METAFILE).mtimeMs;
  for (let attempt = 0; attempt < 10; attempt++) {
    const before = state();
    rmSync(join(OUT, 'api-bundle'), { recursive: true, force: true });
    mkdirSync(BUNDLE_DIR, { recursive: true });
    cpSync(BUILD_DIR, BUNDLE_DIR, { recursive: true });
    cpSync(BUILD_METAFILE, BUNDLE_METAFILE);
    if (state() === before) return;
    await sleep(1000);
  }
  throw new Error('build/functions kept changing while it was copied');
}

/** The package of a file path (or a path inside the repository). */
function packageOfPath(path: string): string {
  const at = path.lastIndexOf('node_modules/');
  if (at < 0) return path.startsWith('functions/') || path.startsWith(BUNDLE_DIR) ? '(hookshape)' : path.startsWith(BENCH_DIR) ? '(bench)' : `(${path})`;
  const parts = path.slice(at + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/** Files loaded by the first answer, by package; a chunk of the bundle counts as the source files in it (esbuild's metafile). */
function packagesLoaded(trace: string): Record<string, number> {
  const metafile = JSON.parse(readFileSync(BUNDLE_METAFILE, 'utf8')) as { outputs: Record<string, { inputs: Record<string, unknown> }> };
  const file = existsSync(`${trace}.after.json`) ? `${trace}.after.json` : `${trace}.before.json`;
  const counts: Record<string, number> = {};
  for (const url of (JSON.parse(readFileSync(file, 'utf8')) as string[]).filter((entry) => entry.startsWith('file:'))) {
    const path = fileURLToPath(url);
    // The metafile names the outputs by their place in build/functions.
    const output = path.startsWith(BUNDLE_DIR) ? metafile.outputs[relative(ROOT, join(BUILD_DIR, relative(BUNDLE_DIR, path)))] : undefined;
    for (const input of output ? Object.keys(output.inputs) : [path]) counts[packageOfPath(input)] = (counts[packageOfPath(input)] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(counts).sort((a, b) => b[1] - a[1]));
}

const percentile = (values: number[], p: number): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const stats = (runs: number[]): LatencyStats => ({ p50: round(median(runs), 2), p95: round(percentile(runs, 95), 2), min: round(Math.min(...runs), 2), runs: runs.map((v) => round(v, 2)) });

/** GET over the given agent; resolves once the last byte arrived. */
function get(port: number, path: string, token: string, agent: Agent | false): Promise<{ status: number; body: string; ms: number }> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - t0 }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** A delivery record as the dispatcher leaves it: pendingDelivery, then its attempts and final status. */
function seedRecords(count: number, requests: Map<string, OutgoingRequest>, webhookIds: string[], webhookNames: string[]): { records: StoredDelivery[]; statuses: Record<string, number> } {
  const ok = (status: number, body: string, durationMs: number): SendResult => ({
    kind: 'response',
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'content-length': String(body.length), date: new Date().toUTCString(), 'x-request-id': randomBytes(8).toString('hex') },
    body: Buffer.from(body),
    truncated: false,
    durationMs,
  });
  const records: StoredDelivery[] = [];
  const statuses: Record<string, number> = {};
  const newest = Date.now() - 60_000;
  for (let i = 0; i < count; i++) {
    const w = i % webhookIds.length;
    // Newest first is i = 0; about 40 s apart with jitter, so the log spans about 4.6 days.
    const createdAt = new Date(newest - i * 40_000 - (i * 7919) % 30_000);
    const eventId = `evt_${createdAt.getTime().toString(36)}_${String(i).padStart(5, '0')}`;
    const event = { ...benchEvent(eventId, ACCOUNT), occurredAt: new Date(createdAt.getTime() - 120).toISOString() };
    const template = requests.get(webhookIds[w]!)!;
    const request: OutgoingRequest = { ...template, body: template.body?.replaceAll('evt_bench_template', eventId), headers: Object.fromEntries(Object.entries(template.headers).map(([name, value]) => [name, value.replaceAll('evt_bench_template', eventId)])) };
    const record = pendingDelivery(event, webhookIds[w]!, webhookNames[w]!, createdAt, 30);
    const attempt = (number: number, sent: SendResult, at: Date): AttemptRecord => attemptRecord({ number, target: 'primary', attemptOfTarget: number, startedAt: at, request, sent, outcome: classifyOutcome(sent, at) });
    const at = (ms: number) => new Date(createdAt.getTime() + ms);
    const roll = i % 100;
    let status: DeliveryStatus;
    let attempts: AttemptRecord[];
    let lastError: string | null = null;
    let errorCode: StoredDelivery['errorCode'] = null;
    if (roll < 87) {
      status = 'succeeded';
      attempts = [attempt(1, ok(200, `{"id":"rec${i}","createdTime":"${createdAt.toISOString()}"}`, 180 + (i % 90)), at(5))];
    } else if (roll < 90) {
      status = 'succeeded';
      attempts = [attempt(1, ok(503, '{"error":{"type":"SERVICE_UNAVAILABLE","message":"Try again later"}}', 40), at(5)), attempt(2, ok(200, `{"id":"rec${i}"}`, 210), at(60_000))];
    } else if (roll < 98) {
      status = 'failed';
      attempts = [0, 60_000, 300_000, 1_800_000].map((ms, n) => attempt(n + 1, n % 2 ? { kind: 'error', code: 'ETIMEDOUT', message: 'Timeout awaiting \'request\' for 30000ms', durationMs: 30_000 } : ok(500, '{"error":"internal"}', 90), at(ms + 5)));
      lastError = attempts.at(-1)!.summary;
      errorCode = 'retries_exhausted';
    } else {
      status = 'invalid';
      attempts = [];
      lastError = 'body: the rendered body is not valid JSON: Unexpected token } in JSON at position 412';
      errorCode = 'invalid_webhook';
    }
    statuses[status] = (statuses[status] ?? 0) + 1;
    records.push({ ...record, status, attempts, attemptsDropped: 0, lastError, errorCode, nextAttemptAt: null, next: null, inFlight: null, takeovers: 0, repairs: 0, updatedAt: at(attempts.length > 0 ? attempts.at(-1)!.startedAt.getTime() - createdAt.getTime() + 300 : 3) } as StoredDelivery);
  }
  return { records, statuses };
}

/** Writes the account's webhooks, a platform API key scoped to it, and `count` delivery records. */
async function seedAccount(db: Firestore, options: ApiOptions, count: number, report: boolean): Promise<{ key: string; keyPath: string; statuses: Record<string, number>; medianRecordBytes: number }> {
  const engine = new TemplateEngine();
  const webhookIds = Array.from({ length: options.webhooks }, (_, i) => `wh_bench_${i + 1}`);
  const webhookNames = webhookIds.map((_, i) => `Airtable: calls table ${i + 1}`);
  const requests = new Map<string, OutgoingRequest>();
  for (const [i, id] of webhookIds.entries()) {
    const url = `https://api.airtable.example/v0/appBench${i + 1}/Calls`;
    await db.doc(webhookPath(ACCOUNT, id)).set({ ...demoWebhook(url), name: webhookNames[i] });
    const built = await buildRequest(benchWebhook(url, id, ACCOUNT), benchEvent('evt_bench_template', ACCOUNT), DEMO_SECRETS, engine);
    if (!built.ok) throw built.error;
    requests.set(id, built.request);
  }
  const { key, record } = await new FirestoreApiKeyStore(db, silentLogger).create({ name: 'bench', accountId: ACCOUNT, createdBy: 'bench' });
  const { records, statuses } = seedRecords(count, requests, webhookIds, webhookNames);
  const seedStart = performance.now();
  let next = 0;
  let written = 0;
  await Promise.all(
    Array.from({ length: SEED_CONCURRENCY }, async () => {
      while (next < records.length) {
        const chunk = records.slice(next, (next += SEED_BATCH));
        const batch = db.batch();
        for (const delivery of chunk) batch.set(db.doc(deliveryPath(ACCOUNT, delivery.webhookId, delivery.eventId)), delivery);
        await batch.commit();
        written += chunk.length;
        if (report && written % 2500 === 0) progress(`api: ${written} records written (${Math.round((performance.now() - seedStart) / 1000)} s)`);
      }
    }),
  );
  const medianRecordBytes = median(records.filter((_, i) => i % 97 === 0).map((delivery) => Buffer.byteLength(JSON.stringify(delivery))));
  return { key, keyPath: apiKeyPath(record.id), statuses, medianRecordBytes };
}

async function main(): Promise<void> {
  const options = sectionOptions<ApiOptions>();
  const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST;
  if (!firestoreHost) throw new Error('FIRESTORE_EMULATOR_HOST is not set');
  const started = performance.now();
  await snapshotBundle();
  const work = mkdtempSync(join(tmpdir(), 'hookshape-api-bench-'));
  const projectId = `bench-api-${randomBytes(4).toString('hex')}`;
  const db = new Firestore({ projectId, ignoreUndefinedProperties: true });

  // --- The account: webhooks, a platform API key, 10,000 delivery records --------------------------
  progress(`api: seeding ${options.records} delivery records of one account over ${options.webhooks} webhooks...`);
  const seeded = await seedAccount(db, options, options.records, true);
  const { key, keyPath } = seeded;
  const seedSeconds = (performance.now() - started) / 1000;

  // --- The api function, warm ------------------------------------------------------------------------
  const keysFile = join(work, 'jwt-keys.json');
  await ensureSigningKeys(keysFile);
  const secretsFile = join(work, 'secrets.json');
  writeFileSync(secretsFile, '{}');
  const env = functionEnv(projectId, { FIRESTORE_EMULATOR_HOST: firestoreHost, API_JWT_KEYS_FILE: keysFile, LOCAL_SECRETS_FILE: secretsFile });
  const base = `/v1/accounts/${ACCOUNT}/deliveries`;
  const firstPath = `${base}?limit=${PAGE}`;

  const latencyStart = performance.now();
  const fn = await startFunction(BUNDLE_DIR, env, { target: 'api', signature: 'http' });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  let pages: Record<string, PageResult>;
  let keyReadMs = 0;
  try {
    await fn.waitForPort();
    const first = await get(fn.port, firstPath, key, agent);
    if (first.status !== 200) throw new Error(`the api answered ${first.status}: ${first.body}\n${fn.stderr()}`);
    const cursor = (JSON.parse(first.body) as { nextCursor: string }).nextCursor;
    const after = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { createdAt: string; path: string };
    const [seconds, nanos] = after.createdAt.split('.').map(Number);

    // The bare floor: FirestoreDeliveryBrowser's query, in this process, and the page as JSON.
    const bareQuery = (status: DeliveryStatus | undefined, cursorAt: boolean): Query => {
      let query: Query = db.collectionGroup(DELIVERIES).where('accountId', '==', ACCOUNT);
      if (status) query = query.where('status', '==', status);
      query = query.orderBy('createdAt', 'desc').orderBy(FieldPath.documentId(), 'desc');
      if (cursorAt) query = query.startAfter(new Timestamp(seconds!, nanos!), db.doc(after.path));
      return query.limit(PAGE + 1);
    };
    const pageSpecs = {
      first: { path: firstPath, query: bareQuery(undefined, false) },
      cursor: { path: `${firstPath}&cursor=${cursor}`, query: bareQuery(undefined, true) },
      failed: { path: `${firstPath}&status=failed`, query: bareQuery('failed', false) },
    };
    type Variant = 'api' | 'bare';
    const bare = async (query: Query) => {
      const t0 = performance.now();
      const snapshot = await query.get();
      const docs = snapshot.docs.slice(0, PAGE);
      const body = JSON.stringify({ data: docs.map((doc) => doc.data()) });
      return { ms: performance.now() - t0, bytes: Buffer.byteLength(body), ids: docs.map((doc) => doc.get('eventId') as string) };
    };
    // CPU: the api process's (from /proc, all threads) around each request; this process's around each bare query.
    const variants: Record<Variant, (spec: { path: string; query: Query }) => Promise<{ ms: number; cpuMs: number; bytes: number; ids: string[] }>> = {
      api: async (spec) => {
        const cpu0 = fn.cpuMs();
        const answer = await get(fn.port, spec.path, key, agent);
        const cpuMs = fn.cpuMs() - cpu0;
        if (answer.status !== 200) throw new Error(`the api answered ${answer.status} to ${spec.path}: ${answer.body.slice(0, 300)}`);
        return { ms: answer.ms, cpuMs, bytes: Buffer.byteLength(answer.body), ids: (JSON.parse(answer.body) as { data: Array<{ eventId: string }> }).data.map((record) => record.eventId) };
      },
      bare: async (spec) => {
        const cpu0 = process.cpuUsage();
        const result = await bare(spec.query);
        const cpu = process.cpuUsage(cpu0);
        return { ...result, cpuMs: (cpu.user + cpu.system) / 1000 };
      },
    };
    const names = Object.keys(variants) as Variant[];
    const kinds = Object.keys(pageSpecs) as Array<keyof typeof pageSpecs>;
    progress(`api: warm-up (${options.warmup} of each variant and page)...`);
    for (let w = 0; w < options.warmup; w++) for (const kind of kinds) for (const name of names) await variants[name](pageSpecs[kind]);

    const times = Object.fromEntries(kinds.map((kind) => [kind, { api: [] as number[], bare: [] as number[] }])) as Record<string, Record<Variant, number[]>>;
    const cpu = Object.fromEntries(kinds.map((kind) => [kind, { api: 0, bare: 0 }])) as Record<string, Record<Variant, number>>;
    const keyReads: number[] = [];
    const seen: Record<string, { api?: string[]; bare?: string[]; apiBytes: number; bareBytes: number }> = Object.fromEntries(kinds.map((kind) => [kind, { apiBytes: 0, bareBytes: 0 }]));
    progress(`api: ${options.runs} alternating runs of the API and the bare query for the pages ${kinds.join(', ')}...`);
    for (let r = 0; r < options.runs; r++) {
      for (const [k, kind] of kinds.entries()) {
        const order = (r + k) % 2 ? [...names].reverse() : names;
        for (const name of order) {
          const result = await variants[name](pageSpecs[kind]);
          times[kind]![name].push(result.ms);
          cpu[kind]![name] += result.cpuMs;
          Object.assign(seen[kind]!, name === 'api' ? { api: result.ids, apiBytes: result.bytes } : { bare: result.ids, bareBytes: result.bytes });
        }
        // The API's one extra Firestore round trip: the key lookup, a document read (context).
        const t0 = performance.now();
        await db.doc(keyPath).get();
        keyReads.push(performance.now() - t0);
      }
      if ((r + 1) % 4 === 0) progress(`api: ${r + 1} of ${options.runs} runs (${Math.round((performance.now() - latencyStart) / 1000)} s)`);
    }
    keyReadMs = round(median(keyReads), 2);
    pages = Object.fromEntries(
      kinds.map((kind) => {
        const t = times[kind]!;
        const s = seen[kind]!;
        return [
          kind,
          {
            path: pageSpecs[kind].path.replace(cursor, '<nextCursor of the first page>'),
            records: s.api?.length ?? 0,
            apiBytes: s.apiBytes,
            bareBytes: s.bareBytes,
            same: JSON.stringify(s.api) === JSON.stringify(s.bare),
            api: stats(t.api),
            bare: stats(t.bare),
            ratioP50: round(median(t.api) / median(t.bare), 3),
            ratioP95: round(percentile(t.api, 95) / percentile(t.bare, 95), 3),
            ratioPerRunMedian: round(median(t.api.map((ms, i) => ms / t.bare[i]!)), 3),
            overheadMs: round(median(t.api) - median(t.bare), 2),
            cpuMsPerRequest: { api: round(cpu[kind]!.api / options.runs, 2), bare: round(cpu[kind]!.bare / options.runs, 2) },
            cpuRatio: round(cpu[kind]!.api / cpu[kind]!.bare, 3),
          } satisfies PageResult,
        ];
      }),
    );
  } finally {
    agent.destroy();
    await fn.stop();
  }
  const latencySeconds = (performance.now() - latencyStart) / 1000;

  // --- Cold start: the api function and the bare one, alternating ------------------------------------
  // In a project of its own with 120 records: the emulator has no indexes and reads every delivery of
  // the project for a collection-group query (hundreds of ms at 10,000 records), where Firestore reads
  // an index whatever the log's size. The request is the same; only the emulator's scan is shorter.
  const coldStart = performance.now();
  const coldProject = `bench-api-cold-${randomBytes(4).toString('hex')}`;
  const coldDb = new Firestore({ projectId: coldProject, ignoreUndefinedProperties: true });
  const coldSeed = await seedAccount(coldDb, options, COLD_RECORDS, false);
  await coldDb.terminate();
  const coldEnv = functionEnv(coldProject, { FIRESTORE_EMULATOR_HOST: firestoreHost, API_JWT_KEYS_FILE: keysFile, LOCAL_SECRETS_FILE: secretsFile });
  const coldRun = async (source: string, trace?: string): Promise<ColdVariant['runs'][number]> => {
    const cold = await startFunction(source, trace ? { ...coldEnv, BENCH_TRACE_OUT: trace } : coldEnv, { target: 'api', signature: 'http', ...(trace ? { preload: TRACE } : {}) });
    try {
      await cold.waitForPort();
      const listened = performance.now();
      const answer = await Promise.race([get(cold.port, firstPath, coldSeed.key, false), sleep(30_000).then(() => undefined)]);
      const at = performance.now();
      const cpuMs = cold.cpuMs();
      if (!answer) throw new Error(`no answer within 30 s\n${cold.stderr()}`);
      if (answer.status !== 200) throw new Error(`${source} answered ${answer.status}: ${answer.body.slice(0, 300)}\n${cold.stderr()}`);
      const records = (JSON.parse(answer.body) as { data: unknown[] }).data.length;
      if (records !== PAGE) throw new Error(`${source} answered a page of ${records} records, not ${PAGE}`);
      return { firstAnswerMs: round(at - cold.startedAt, 1), listenMs: round(listened - cold.startedAt, 1), requestMs: round(at - listened, 1), cpuMs };
    } finally {
      await cold.stop();
    }
  };
  const sources = { api: BUNDLE_DIR, bare: BARE_API_DIR } as const;
  const coldRuns: Record<'api' | 'bare', ColdVariant['runs']> = { api: [], bare: [] };
  progress(`api: cold start, ${options.coldRounds} alternating rounds of the api function and the bare one (after one unmeasured run of each)...`);
  for (const source of Object.values(sources)) await coldRun(source);
  for (let r = 0; r < options.coldRounds; r++) {
    const order = (r % 2 ? ['bare', 'api'] : ['api', 'bare']) as Array<'api' | 'bare'>;
    for (const name of order) coldRuns[name].push(await coldRun(sources[name]));
  }
  const variant = (runs: ColdVariant['runs']): ColdVariant => ({
    firstAnswerMs: round(median(runs.map((run) => run.firstAnswerMs)), 1),
    listenMs: round(median(runs.map((run) => run.listenMs)), 1),
    requestMs: round(median(runs.map((run) => run.requestMs)), 1),
    cpuMs: round(median(runs.map((run) => run.cpuMs)), 1),
    runs,
  });
  const ratiosPerRound = coldRuns.api.map((run, i) => round(run.firstAnswerMs / coldRuns.bare[i]!.firstAnswerMs, 3));
  // One more run of each with the resolve hook preloaded: the packages loaded by the first answer.
  progress('api: listing the packages each loads by its first answer');
  await coldRun(BUNDLE_DIR, join(work, 'trace-api'));
  await coldRun(BARE_API_DIR, join(work, 'trace-bare'));
  const modules = { api: packagesLoaded(join(work, 'trace-api')), bare: packagesLoaded(join(work, 'trace-bare')) };
  const coldSeconds = (performance.now() - coldStart) / 1000;

  const result: ApiResult = {
    seed: { records: options.records, webhooks: options.webhooks, statuses: seeded.statuses, medianRecordBytes: seeded.medianRecordBytes, seconds: round(seedSeconds, 1) },
    pages,
    keyReadMs,
    cold: {
      variants: { api: variant(coldRuns.api), bare: variant(coldRuns.bare) },
      ratio: round(median(ratiosPerRound), 3),
      ratioCpu: round(median(coldRuns.api.map((run, i) => run.cpuMs / coldRuns.bare[i]!.cpuMs)), 3),
      ratiosPerRound,
      request: `GET ${firstPath} (Bearer platform API key), ${COLD_RECORDS} records in the project`,
      modules: { api: modules.api, bare: modules.bare, onlyInApi: Object.fromEntries(Object.entries(modules.api).filter(([name]) => !(name in modules.bare))) },
    },
    seconds: { seed: round(seedSeconds, 1), latency: round(latencySeconds, 1), cold: round(coldSeconds, 1) },
  };
  writeResult(result);
  await db.terminate();
  rmSync(work, { recursive: true, force: true });
  rmSync(join(OUT, 'api-bundle'), { recursive: true, force: true });
  process.exit(0);
}

await main();
