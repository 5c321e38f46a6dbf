/**
 * Section: cold start. Time from process start to the first delivered request for the dispatch entry
 * point under the functions framework (as Cloud Functions runs it), next to a bare function importing
 * only the client libraries the dispatch path needs; each also with Node's module compile cache, and
 * the dispatch function bundled with esbuild when esbuild can be found or installed. Runs alternate.
 * One more run, with a resolve hook preloaded, lists the modules loaded before the first event.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Firestore } from '@google-cloud/firestore';
import { webhookPath } from '../../functions/src/firestore/firestore-layout.ts';
import { progress, sectionOptions, writeResult } from '../lib/child.ts';
import { benchEvent, DEMO_ACCOUNT, DEMO_SECRETS, DEMO_WEBHOOK_ID, demoWebhook } from '../lib/fixtures.ts';
import { BARE_DIR, BENCH_DIR, BUILD_DIR, functionEnv, OUT, ROOT, sleep, startFunction } from '../lib/function-process.ts';
import { median, round } from '../lib/measure.ts';

export interface ColdStartOptions {
  runs: number;
  importRuns: number;
  /** Bundle with esbuild: 'auto' installs it under bench/.out/tools when it is not in node_modules. */
  bundle: 'auto' | 'off';
}

export interface ColdRun {
  /** Process start → first delivered request (the headline figure). */
  deliveredMs: number;
  /** Process start → the framework listens (module loading). */
  listenMs: number;
  /** CPU time the function process had used when its request arrived (all threads; 10 ms ticks). */
  cpuMs: number;
}

export interface ColdStartResult {
  variants: Record<string, { deliveredMs: number; listenMs: number; firstEventMs: number; cpuMs: number; runs: ColdRun[] }>;
  ratios: Record<string, number>;
  ratiosPerRound: Record<string, number[]>;
  modules: {
    beforeFirstEvent: { files: number; packages: Record<string, number> };
    byFirstDelivery: { files: number; packages: Record<string, number> };
    notLoaded: string[];
    loadedBeforeFirstEvent: string[];
    /** The bare function's modules before its first event, and the packages only the dispatch function loads. */
    bareBeforeFirstEvent: { files: number; packages: Record<string, number> };
    onlyInDispatch: Record<string, number>;
  };
  /** Fresh process importing one library: ms for the import, and the process's RSS after it (MB). */
  importMs: Record<string, number>;
  importRssMB: Record<string, number>;
  bundle: { built: boolean; note: string; bytes?: number; inputs?: number };
}

const BUNDLE_DIR = join(OUT, 'bundle');
const TRACE = join(BENCH_DIR, 'cold-start', 'trace-modules.ts');
const ESBUILD_VERSION = '0.28.2';

/** The libraries whose import cost the issue lists, plus the built function as a whole. */
const IMPORTS = ['node:os', '@google-cloud/firestore', '@google-cloud/pubsub', '@google-cloud/tasks', 'got', 'liquidjs', '@google-cloud/functions-framework', 'zod', 'request-filtering-agent', './build/functions/index.js', './bench/cold-start/bare-function/index.js'];
/** Modules the dispatch path must not load before the first event. */
const MUST_NOT_LOAD = ['@google-cloud/pubsub', '@google-cloud/tasks', '@google-cloud/secret-manager', 'yaml', 'fast-xml-parser'];

function packageOf(url: string): string {
  if (!url.startsWith('file:')) return '(node builtins)';
  const path = fileURLToPath(url);
  const at = path.lastIndexOf('/node_modules/');
  if (at < 0) return path.startsWith(BUILD_DIR) || path.startsWith(BUNDLE_DIR) ? '(hookshape)' : path.startsWith(BENCH_DIR) ? '(bench)' : `(${relative(ROOT, path)})`;
  const parts = path.slice(at + '/node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

function summariseModules(urls: string[]): { files: number; packages: Record<string, number> } {
  const files = urls.filter((url) => url.startsWith('file:'));
  const packages: Record<string, number> = {};
  for (const url of files) packages[packageOf(url)] = (packages[packageOf(url)] ?? 0) + 1;
  return { files: files.length, packages: Object.fromEntries(Object.entries(packages).sort((a, b) => b[1] - a[1])) };
}

/** Finds esbuild in node_modules or under bench/.out/tools, installing it there if allowed. */
async function findEsbuild(mode: 'auto' | 'off'): Promise<{ build: (options: Record<string, unknown>) => Promise<{ metafile?: { inputs: Record<string, unknown> } }> } | string> {
  if (mode === 'off') return 'bundling skipped (--no-bundle)';
  const local = join(OUT, 'tools', 'node_modules', 'esbuild', 'lib', 'main.js');
  for (const candidate of ['esbuild', pathToFileURL(local).href]) {
    try {
      return (await import(candidate)) as never;
    } catch {
      // not there
    }
  }
  progress(`cold start: installing esbuild ${ESBUILD_VERSION} under bench/.out/tools (bench-only, not a project dependency)...`);
  mkdirSync(join(OUT, 'tools'), { recursive: true });
  const npm = spawnSync('npm', ['install', '--prefix', join(OUT, 'tools'), `esbuild@${ESBUILD_VERSION}`, '--no-save', '--no-package-lock', '--no-audit', '--no-fund', '--loglevel=error'], { encoding: 'utf8', timeout: 120_000 });
  if (npm.status !== 0) return `esbuild could not be installed (${(npm.stderr || npm.error?.message || '').trim().split('\n')[0]}); bundle not measured`;
  try {
    return (await import(pathToFileURL(local).href)) as never;
  } catch (error) {
    return `esbuild could not be loaded: ${(error as Error).message}`;
  }
}

/**
 * Bundles build/functions/index.js into bench/.out/bundle: ESM with code splitting (the lazily imported
 * Cloud Tasks, Secret Manager, YAML and XML modules stay lazy), the functions framework left external
 * (the host process owns its function registry).
 */
async function buildBundle(mode: 'auto' | 'off'): Promise<ColdStartResult['bundle']> {
  const esbuild = await findEsbuild(mode);
  if (typeof esbuild === 'string') return { built: false, note: esbuild };
  rmSync(BUNDLE_DIR, { recursive: true, force: true });
  mkdirSync(BUNDLE_DIR, { recursive: true });
  const result = await esbuild.build({
    entryPoints: [join(BUILD_DIR, 'index.js')],
    bundle: true,
    splitting: true,
    platform: 'node',
    target: 'node22',
    format: 'esm',
    outdir: BUNDLE_DIR,
    external: ['@google-cloud/functions-framework'],
    // CommonJS dependencies inside an ES module bundle still call require and read __dirname.
    banner: {
      js: "import { createRequire as __hsRequire } from 'node:module'; import { fileURLToPath as __hsPath } from 'node:url'; import { dirname as __hsDir } from 'node:path'; const require = __hsRequire(import.meta.url); const __filename = __hsPath(import.meta.url); const __dirname = __hsDir(__filename);",
    },
    metafile: true,
    logLevel: 'error',
    legalComments: 'none',
  });
  writeFileSync(join(BUNDLE_DIR, 'package.json'), '{ "private": true, "type": "module", "main": "index.js" }\n');
  const bytes = readdirSync(BUNDLE_DIR).filter((name) => name.endsWith('.js')).reduce((sum, name) => sum + statSync(join(BUNDLE_DIR, name)).size, 0);
  return { built: true, note: `esbuild, ESM with splitting, functions framework external`, bytes, inputs: Object.keys(result.metafile?.inputs ?? {}).length };
}

async function main(): Promise<void> {
  const options = sectionOptions<ColdStartOptions>();
  const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST;
  if (!firestoreHost) throw new Error('FIRESTORE_EMULATOR_HOST is not set');
  const work = mkdtempSync(join(tmpdir(), 'hookshape-cold-'));
  const projectId = `bench-cold-${randomBytes(4).toString('hex')}`;

  // The receiver, in this process: it notes when each event's request arrives.
  const arrivals = new Map<string, (at: number) => void>();
  const receiver = createServer((req, res) => {
    const at = performance.now();
    const eventId = String(req.headers['x-hookshape-event'] ?? '');
    req.resume();
    req.on('end', () => res.end('{"ok":true}'));
    arrivals.get(eventId)?.(at);
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
  const db = new Firestore({ projectId });
  await db.doc(webhookPath(DEMO_ACCOUNT, DEMO_WEBHOOK_ID)).set(demoWebhook(`${receiverUrl}/v0/appDemo/Calls`));
  await db.terminate();
  const secretsFile = join(work, 'secrets.json');
  writeFileSync(secretsFile, JSON.stringify({ [DEMO_ACCOUNT]: DEMO_SECRETS }));

  progress('cold start: bundling the built function...');
  const bundle = await buildBundle(options.bundle);
  if (!bundle.built) progress(`cold start: ${bundle.note}`);

  const sources: Record<string, string> = { dispatch: BUILD_DIR, bare: BARE_DIR, ...(bundle.built ? { bundle: BUNDLE_DIR } : {}) };
  const cacheDirs: Record<string, string> = {};
  let sequence = 0;

  const coldRun = async (source: string, extra: { cacheDir?: string; trace?: string } = {}): Promise<ColdRun & { firstEventMs: number }> => {
    const event = benchEvent(`evt_cold_${Date.now().toString(36)}_${++sequence}`);
    const env = functionEnv(projectId, {
      FIRESTORE_EMULATOR_HOST: firestoreHost,
      LOCAL_SECRETS_FILE: secretsFile,
      ...(extra.cacheDir ? { NODE_COMPILE_CACHE: extra.cacheDir } : {}),
      ...(extra.trace ? { BENCH_TRACE_OUT: extra.trace } : {}),
    });
    const fn = await startFunction(source, env, extra.trace ? { preload: TRACE } : {});
    const delivered = new Promise<{ at: number; cpuMs: number }>((resolve) => arrivals.set(event.id, (at) => resolve({ at, cpuMs: fn.cpuMs() })));
    try {
      await fn.waitForPort();
      const listened = performance.now();
      const answered = fn.push(event);
      const arrival = await Promise.race([delivered, sleep(30_000).then(() => undefined)]);
      if (!arrival) throw new Error(`no delivery within 30 s\n${fn.stderr()}`);
      const status = await answered;
      if (status >= 300) throw new Error(`the function answered ${status}\n${fn.stderr()}`);
      return { deliveredMs: round(arrival.at - fn.startedAt, 1), listenMs: round(listened - fn.startedAt, 1), firstEventMs: round(arrival.at - listened, 1), cpuMs: arrival.cpuMs };
    } finally {
      arrivals.delete(event.id);
      await fn.stop();
    }
  };

  // Prime the compile caches (the first run with an empty cache writes it), then alternate.
  for (const [name, source] of Object.entries(sources)) {
    cacheDirs[name] = join(work, `cache-${name}`);
    await coldRun(source, { cacheDir: cacheDirs[name] });
  }
  const variantNames = Object.keys(sources).flatMap((name) => [name, `${name}+cache`]);
  const runs: Record<string, Array<ColdRun & { firstEventMs: number }>> = Object.fromEntries(variantNames.map((name) => [name, []]));
  progress(`cold start: ${options.runs} alternating rounds of ${variantNames.join(', ')}`);
  for (let r = 0; r < options.runs; r++) {
    const order = variantNames.map((_, i) => variantNames[(i + r) % variantNames.length]!);
    for (const name of order) {
      const [base, cached] = name.split('+');
      runs[name]!.push(await coldRun(sources[base!]!, cached ? { cacheDir: cacheDirs[base!]! } : {}));
    }
  }

  progress('cold start: listing the modules the dispatch and bare functions load');
  const trace = join(work, 'trace');
  await coldRun(BUILD_DIR, { trace });
  const before = JSON.parse(readFileSync(`${trace}.before.json`, 'utf8')) as string[];
  const after = existsSync(`${trace}.after.json`) ? (JSON.parse(readFileSync(`${trace}.after.json`, 'utf8')) as string[]) : before;
  const beforeSummary = summariseModules(before);
  const bareTrace = join(work, 'trace-bare');
  await coldRun(BARE_DIR, { trace: bareTrace });
  const bareSummary = summariseModules(JSON.parse(readFileSync(`${bareTrace}.before.json`, 'utf8')) as string[]);
  const onlyInDispatch = Object.fromEntries(Object.entries(beforeSummary.packages).filter(([name]) => !(name in bareSummary.packages)));

  progress(`cold start: import cost of each library (${options.importRuns} alternating rounds)`);
  const importRuns: Record<string, Array<{ ms: number; rss: number }>> = Object.fromEntries(IMPORTS.map((name) => [name, []]));
  for (let r = 0; r < options.importRuns; r++) {
    for (const specifier of r % 2 ? [...IMPORTS].reverse() : IMPORTS) {
      const script = `const t = performance.now(); await import(${JSON.stringify(specifier)}); const ms = performance.now() - t; process.stdout.write(JSON.stringify({ ms, rss: process.memoryUsage().rss }));`;
      const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, encoding: 'utf8', env: functionEnv(projectId) });
      if (run.status === 0) importRuns[specifier]!.push(JSON.parse(run.stdout) as { ms: number; rss: number });
    }
  }

  const variants = Object.fromEntries(
    Object.entries(runs).map(([name, list]) => [
      name,
      {
        deliveredMs: round(median(list.map((run) => run.deliveredMs)), 1),
        listenMs: round(median(list.map((run) => run.listenMs)), 1),
        firstEventMs: round(median(list.map((run) => run.firstEventMs)), 1),
        cpuMs: round(median(list.map((run) => run.cpuMs)), 1),
        runs: list,
      },
    ]),
  );
  const perRound = (a: string, b: string) => (runs[a] && runs[b] ? runs[a]!.map((run, i) => run.deliveredMs / runs[b]![i]!.deliveredMs) : []);
  const cpuPerRound = (a: string, b: string) => (runs[a] && runs[b] ? runs[a]!.map((run, i) => run.cpuMs / runs[b]![i]!.cpuMs) : []);
  const ratiosPerRound: Record<string, number[]> = {
    dispatchVsBare: perRound('dispatch', 'bare'),
    dispatchVsBareCpu: cpuPerRound('dispatch', 'bare'),
    cachedDispatchVsBare: perRound('dispatch+cache', 'bare'),
    cachedDispatchVsCachedBare: perRound('dispatch+cache', 'bare+cache'),
    cacheGain: perRound('dispatch+cache', 'dispatch'),
    ...(bundle.built ? { bundleVsBare: perRound('bundle', 'bare'), cachedBundleVsBare: perRound('bundle+cache', 'bare'), bundleGain: perRound('bundle', 'dispatch') } : {}),
  };
  const result: ColdStartResult = {
    variants,
    ratios: Object.fromEntries(Object.entries(ratiosPerRound).map(([name, values]) => [name, round(median(values), 3)])),
    ratiosPerRound,
    modules: {
      beforeFirstEvent: beforeSummary,
      byFirstDelivery: summariseModules(after),
      notLoaded: MUST_NOT_LOAD.filter((name) => !(name in beforeSummary.packages)),
      loadedBeforeFirstEvent: before.filter((url) => url.startsWith('file:')).map((url) => relative(ROOT, fileURLToPath(url))),
      bareBeforeFirstEvent: bareSummary,
      onlyInDispatch,
    },
    importMs: Object.fromEntries(Object.entries(importRuns).map(([name, values]) => [name === 'node:os' ? '(node alone)' : name, round(median(values.map((v) => v.ms)), 1)])),
    importRssMB: Object.fromEntries(Object.entries(importRuns).map(([name, values]) => [name === 'node:os' ? '(node alone)' : name, round(median(values.map((v) => v.rss)) / 1048576, 1)])),
    bundle,
  };
  writeResult(result);
  receiver.close();
  receiver.closeAllConnections();
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

await main();
