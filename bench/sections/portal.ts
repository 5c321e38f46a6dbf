/**
 * Section: the customer portal.
 *
 * 1. First-load JavaScript: the files a browser runs before the portal's first page — the entry
 *    chunk(s) of build/functions/portal/index.html (`<script type="module" src>`, and any
 *    `<link rel="modulepreload">`) and, recursively, every chunk they import statically — with their
 *    gzip size (level 9, as a server would send them compressed). Chunks loaded with a dynamic
 *    import() (the editor's CodeMirror) are not part of the first load; they are listed apart, with
 *    what the editor page adds. The CSS is listed too, not counted as JavaScript.
 * 2. The preview round trip against the local stack: the api function of build/functions under the
 *    functions framework, on the Firestore emulator, called over keep-alive HTTP with a customer token
 *    (as the portal calls it) — the saved webhook's preview (POST …/webhooks/{id}/preview) and the
 *    editor's draft preview (POST …/webhooks/preview: the draft's checks and its request), alternating,
 *    timed in this process until the last byte of the answer, for the demo webhook of `npm start`.
 */
import { readFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Firestore } from '@google-cloud/firestore';
import { demoWebhook } from '../../functions/dev/demo-webhook.ts';
import { ensureSigningKeys } from '../../functions/dev/local-api.ts';
import { FirestoreApiKeyStore } from '../../functions/src/firestore/firestore-api-keys.ts';
import { createMemoryLogger } from '../../functions/src/log/logger.ts';
import { progress, sectionOptions, writeResult } from '../lib/child.ts';
import { BUILD_DIR, functionEnv, startFunction } from '../lib/function-process.ts';
import { median, round } from '../lib/measure.ts';

export interface PortalOptions {
  /** Timed round trips per kind of preview. */
  runs: number;
  warmup: number;
}

export interface AssetSize {
  file: string;
  bytes: number;
  gzipBytes: number;
}

export interface PortalResult {
  firstLoad: { files: AssetSize[]; jsBytes: number; jsGzipBytes: number; css: AssetSize[] };
  /** Chunks only a dynamic import() loads, and the editor page's JavaScript (first load + its chunks). */
  lazy: { files: AssetSize[]; editorPageJsGzipBytes: number };
  preview: Record<'saved' | 'draft', { p50Ms: number; p95Ms: number; minMs: number; answerBytes: number; runs: number[] }>;
  /** What the draft preview answered for the demo webhook: it must render and pass its checks. */
  draftOk: boolean;
}

const PORTAL_DIR = join(BUILD_DIR, 'portal');
const ACCOUNT = 'acc_bench_portal';
const WEBHOOK_ID = 'wh_bench_portal';

const size = (file: string): AssetSize => {
  const bytes = readFileSync(join(PORTAL_DIR, file));
  return { file, bytes: bytes.length, gzipBytes: gzipSync(bytes, { level: 9 }).length };
};

/** `/portal/assets/x.js` (as index.html writes it) → `assets/x.js`. */
const local = (href: string) => href.replace(/^\/portal\//, '').replace(/^\.\//, '');

/** The chunks a chunk imports statically (`import … from "./x.js"`, `import "./x.js"`), and with import(). */
function importsOf(file: string): { static: string[]; dynamic: string[] } {
  const code = readFileSync(join(PORTAL_DIR, file), 'utf8');
  const resolve = (specifier: string) => posix.join(dirname(file), specifier);
  const relative = (specifier: string) => specifier.startsWith('./') || specifier.startsWith('../');
  const statics = [...code.matchAll(/(?:^|[;}\s])import\s*(?:[\w$*{},\s]+?\s*from\s*)?["']([^"']+)["']/g)].map((match) => match[1]!).filter(relative).map(resolve);
  const dynamics = [...code.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((match) => match[1]!).filter(relative).map(resolve);
  return { static: statics, dynamic: dynamics };
}

export function portalSizes(): Pick<PortalResult, 'firstLoad' | 'lazy'> {
  const index = join(PORTAL_DIR, 'index.html');
  if (!existsSync(index)) throw new Error(`${index} is missing: run npm run build`);
  const html = readFileSync(index, 'utf8');
  const entries = [...html.matchAll(/<script\b[^>]*\btype="module"[^>]*\bsrc="([^"]+)"/g), ...html.matchAll(/<link\b[^>]*\brel="modulepreload"[^>]*\bhref="([^"]+)"/g)].map((match) => local(match[1]!));
  if (entries.length === 0) throw new Error('index.html names no module script');
  const css = [...html.matchAll(/<link\b[^>]*\brel="stylesheet"[^>]*\bhref="([^"]+)"/g)].map((match) => size(local(match[1]!)));
  // The first load: the entries and their static imports, transitively.
  const first = new Set<string>();
  const lazyRoots = new Set<string>();
  const visit = (file: string) => {
    if (first.has(file)) return;
    first.add(file);
    const imports = importsOf(file);
    for (const dynamic of imports.dynamic) lazyRoots.add(dynamic);
    for (const imported of imports.static) visit(imported);
  };
  for (const entry of entries) visit(entry);
  // What the dynamic imports bring (each with its own static imports), less what is loaded already.
  const lazy = new Set<string>();
  const visitLazy = (file: string) => {
    if (first.has(file) || lazy.has(file)) return;
    lazy.add(file);
    for (const imported of importsOf(file).static) visitLazy(imported);
  };
  for (const root of lazyRoots) visitLazy(root);
  const files = [...first].map(size);
  const lazyFiles = [...lazy].map(size);
  const gz = (list: AssetSize[]) => list.reduce((sum, item) => sum + item.gzipBytes, 0);
  return {
    firstLoad: { files, jsBytes: files.reduce((sum, item) => sum + item.bytes, 0), jsGzipBytes: gz(files), css },
    lazy: { files: lazyFiles, editorPageJsGzipBytes: gz(files) + gz(lazyFiles) },
  };
}

function post(port: number, path: string, token: string, body: unknown, agent: Agent): Promise<{ status: number; text: string; ms: number }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), ms: performance.now() - started }));
    });
    req.on('error', reject);
    req.end(payload);
  });
}

const percentile = (values: number[], p: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.ceil((p / 100) * values.length) - 1)]!;

async function previewRoundTrips(options: PortalOptions): Promise<Pick<PortalResult, 'preview' | 'draftOk'>> {
  const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST;
  if (!firestoreHost) throw new Error('FIRESTORE_EMULATOR_HOST is not set (npm run bench starts the emulator)');
  const projectId = `bench-portal-${Date.now().toString(36)}`;
  const work = mkdtempSync(join(tmpdir(), 'hookshape-bench-portal-'));
  const db = new Firestore({ projectId });
  const keysFile = join(work, 'jwt-keys.json');
  await ensureSigningKeys(keysFile);
  const secretsFile = join(work, 'secrets.json');
  writeFileSync(secretsFile, '{}');
  const fn = await startFunction(BUILD_DIR, functionEnv(projectId, { FIRESTORE_EMULATOR_HOST: firestoreHost, API_JWT_KEYS_FILE: keysFile, LOCAL_SECRETS_FILE: secretsFile }), { target: 'api', signature: 'http' });
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  try {
    await fn.waitForPort();
    const { key } = await new FirestoreApiKeyStore(db, createMemoryLogger()).create({ name: 'bench', accountId: null, createdBy: 'bench' });
    const v1 = `/v1/accounts/${ACCOUNT}`;
    const session = await post(fn.port, `${v1}/portal-sessions`, key, { subject: 'bench' }, agent);
    if (session.status !== 201) throw new Error(`portal-sessions answered ${session.status}: ${session.text}\n${fn.stderr()}`);
    const token = (JSON.parse(session.text) as { token: string }).token;
    const webhook = demoWebhook('https://api.airtable.com/v0/appBench/Calls');
    const created = await post(fn.port, `${v1}/webhooks`, token, { ...webhook, id: WEBHOOK_ID }, agent);
    if (created.status !== 201) throw new Error(`createWebhook answered ${created.status}: ${created.text}`);
    // What the editor sends: the document as read, the person's edit on top.
    const { enabled: _enabled, ...draft } = webhook;
    const kinds = {
      saved: () => post(fn.port, `${v1}/webhooks/${WEBHOOK_ID}/preview`, token, { eventType: 'call.created' }, agent),
      draft: () => post(fn.port, `${v1}/webhooks/preview`, token, { webhook: { ...draft, name: 'Airtable: calls table (edited)' }, webhookId: WEBHOOK_ID, eventType: 'call.created' }, agent),
    };
    const answer = await kinds.draft();
    const parsed = JSON.parse(answer.text) as { preview: unknown; validation?: { ok: boolean } };
    const draftOk = answer.status === 200 && parsed.preview !== null && parsed.validation?.ok === true;
    for (let i = 0; i < options.warmup; i++) for (const run of Object.values(kinds)) await run();
    const times: Record<'saved' | 'draft', number[]> = { saved: [], draft: [] };
    const bytes: Record<'saved' | 'draft', number> = { saved: 0, draft: 0 };
    for (let i = 0; i < options.runs; i++) {
      // Alternating, the order reversed every other run.
      const order = (i % 2 === 0 ? ['saved', 'draft'] : ['draft', 'saved']) as Array<'saved' | 'draft'>;
      for (const kind of order) {
        const result = await kinds[kind]();
        if (result.status !== 200) throw new Error(`${kind} preview answered ${result.status}: ${result.text.slice(0, 300)}`);
        times[kind].push(result.ms);
        bytes[kind] = Buffer.byteLength(result.text);
      }
    }
    const stats = (kind: 'saved' | 'draft') => ({ p50Ms: round(median(times[kind]), 1), p95Ms: round(percentile(times[kind], 95), 1), minMs: round(Math.min(...times[kind]), 1), answerBytes: bytes[kind], runs: times[kind].map((ms) => round(ms, 1)) });
    return { preview: { saved: stats('saved'), draft: stats('draft') }, draftOk };
  } finally {
    agent.destroy();
    await fn.stop();
    await db.terminate();
    rmSync(work, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const options = sectionOptions<PortalOptions>();
  progress('portal: first-load JavaScript from build/functions/portal...');
  const sizes = portalSizes();
  progress(`portal: ${round(sizes.firstLoad.jsGzipBytes / 1024, 1)} KB gzip first load; preview round trips (${options.runs} of each)...`);
  const previews = await previewRoundTrips(options);
  writeResult({ ...sizes, ...previews } satisfies PortalResult);
  process.exit(0);
}

await main();
