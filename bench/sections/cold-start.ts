/**
 * Section: cold start. Time from process start to the first delivered request for the dispatch entry
 * point under the functions framework (as Cloud Functions runs it), next to a bare function importing
 * only the client libraries the dispatch path needs; each also with Node's module compile cache. The
 * dispatch function runs as deployed (build/functions, the esbuild bundle) and, to show what bundling
 * gives, compiled file by file with tsc. Runs alternate. One more run, with a resolve hook preloaded,
 * lists the modules loaded before the first event (for the bundle: the source files inside the chunks
 * it loaded, from esbuild's metafile).
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Firestore } from '@google-cloud/firestore';
import { webhookPath } from '../../functions/src/firestore/firestore-layout.ts';
import { progress, sectionOptions, writeResult } from '../lib/child.ts';
import { benchEvent, DEMO_ACCOUNT, DEMO_SECRETS, DEMO_WEBHOOK_ID, demoWebhook } from '../lib/fixtures.ts';
import { BUILD_METAFILE } from '../../scripts/build.ts';
import { BARE_DIR, BENCH_DIR, BUILD_DIR, functionEnv, OUT, ROOT, sleep, startFunction } from '../lib/function-process.ts';
import { median, round } from '../lib/measure.ts';

export interface ColdStartOptions {
  runs: number;
  importRuns: number;
  /**
   * Seconds for the alternating rounds: after two, a round that would end past them is not started,
   * and the import costs are not measured (a busy machine: cold starts slow down most).
   */
  roundsSeconds?: number;
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
  /** Alternating rounds run: fewer than asked when the machine was too busy for roundsSeconds. */
  rounds: number;
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
  /** The deployed bundle, and the file-by-file build it is compared with. */
  bundle: { bytes: number; inputs: number; unbundled: string };
}

const UNBUNDLED_DIR = join(OUT, 'unbundled');
const TRACE = join(BENCH_DIR, 'cold-start', 'trace-modules.ts');

/** The libraries whose import cost the issue lists, plus the built function as a whole. */
const IMPORTS = ['node:os', '@google-cloud/firestore', '@google-cloud/pubsub', '@google-cloud/tasks', 'got', 'liquidjs', '@google-cloud/functions-framework', 'zod', 'request-filtering-agent', './build/functions/index.js', './bench/.out/unbundled/index.js', './bench/cold-start/bare-function/index.js'];
/** Modules the dispatch path must not load before the first event. */
const MUST_NOT_LOAD = ['@google-cloud/pubsub', '@google-cloud/tasks', '@google-cloud/secret-manager', 'yaml', 'fast-xml-parser'];

function packageOf(url: string): string {
  if (!url.startsWith('file:')) return '(node builtins)';
  const path = fileURLToPath(url);
  const at = path.lastIndexOf('/node_modules/');
  if (at < 0) return path.startsWith(BUILD_DIR) || path.startsWith(UNBUNDLED_DIR) ? '(hookshape)' : path.startsWith(BENCH_DIR) ? '(bench)' : `(${relative(ROOT, path)})`;
  const parts = path.slice(at + '/node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

function summariseModules(urls: string[]): { files: number; packages: Record<string, number> } {
  const files = urls.filter((url) => url.startsWith('file:'));
  const packages: Record<string, number> = {};
  for (const url of files) packages[packageOf(url)] = (packages[packageOf(url)] ?? 0) + 1;
  return { files: files.length, packages: Object.fromEntries(Object.entries(packages).sort((a, b) => b[1] - a[1])) };
}

interface Metafile {
  outputs: Record<string, { inputs: Record<string, unknown> }>;
}

/** The package a source file of the bundle came from (paths relative to the repository root). */
function packageOfInput(path: string): string {
  const at = path.lastIndexOf('node_modules/');
  if (at < 0) return path.startsWith('functions/') ? '(hookshape)' : `(${path})`;
  const parts = path.slice(at + 'node_modules/'.length).split('/');
  return parts[0]!.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0]!;
}

/**
 * Modules of a traced run of the bundle: a loaded chunk counts as the source files esbuild put in it;
 * files outside the bundle (the external packages) count as themselves.
 */
function summariseBundleModules(urls: string[], metafile: Metafile): { files: number; packages: Record<string, number> } {
  const packages: Record<string, number> = {};
  let files = 0;
  for (const url of urls.filter((entry) => entry.startsWith('file:'))) {
    const path = fileURLToPath(url);
    const output = path.startsWith(BUILD_DIR) ? metafile.outputs[relative(ROOT, path)] : undefined;
    const inputs = output ? Object.keys(output.inputs) : [relative(ROOT, path)];
    for (const input of inputs) {
      const name = output ? packageOfInput(input) : packageOf(url);
      packages[name] = (packages[name] ?? 0) + 1;
      files++;
    }
  }
  return { files, packages: Object.fromEntries(Object.entries(packages).sort((a, b) => b[1] - a[1])) };
}

/** The same functions compiled file by file (tsc), loading the libraries from node_modules: what the bundle is compared with. */
function buildUnbundled(): string {
  rmSync(UNBUNDLED_DIR, { recursive: true, force: true });
  const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json'), '--outDir', UNBUNDLED_DIR], { encoding: 'utf8' });
  if (tsc.status !== 0) throw new Error(`tsc failed:\n${tsc.stdout}${tsc.stderr}`);
  writeFileSync(join(UNBUNDLED_DIR, 'package.json'), '{ "private": true, "type": "module", "main": "index.js" }\n');
  return 'tsc, file by file, libraries from node_modules';
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

  progress('cold start: compiling the functions file by file (tsc) to compare with the bundle...');
  const metafile = JSON.parse(readFileSync(BUILD_METAFILE, 'utf8')) as Metafile;
  const bundle = {
    bytes: readdirSync(BUILD_DIR).filter((name) => name.endsWith('.js')).reduce((sum, name) => sum + statSync(join(BUILD_DIR, name)).size, 0),
    inputs: new Set(Object.values(metafile.outputs).flatMap((output) => Object.keys(output.inputs))).size,
    unbundled: buildUnbundled(),
  };

  const sources: Record<string, string> = { dispatch: BUILD_DIR, bare: BARE_DIR, unbundled: UNBUNDLED_DIR };
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
  const roundsStarted = performance.now();
  let rounds = 0;
  for (let r = 0; r < options.runs; r++) {
    const spent = (performance.now() - roundsStarted) / 1000;
    if (r >= 2 && options.roundsSeconds !== undefined && spent + spent / r > options.roundsSeconds) {
      progress(`cold start: ${r} rounds in ${Math.round(spent)} s; another would end past ${options.roundsSeconds} s, so the rounds stop here`);
      break;
    }
    rounds++;
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
  const beforeSummary = summariseBundleModules(before, metafile);
  const bareTrace = join(work, 'trace-bare');
  await coldRun(BARE_DIR, { trace: bareTrace });
  const bareSummary = summariseModules(JSON.parse(readFileSync(`${bareTrace}.before.json`, 'utf8')) as string[]);
  const onlyInDispatch = Object.fromEntries(Object.entries(beforeSummary.packages).filter(([name]) => !(name in bareSummary.packages)));

  const importRounds = rounds < options.runs ? 0 : options.importRuns;
  progress(importRounds ? `cold start: import cost of each library (${importRounds} alternating rounds)` : 'cold start: import costs not measured (the rounds were cut short)');
  const importRuns: Record<string, Array<{ ms: number; rss: number }>> = Object.fromEntries(IMPORTS.map((name) => [name, []]));
  for (let r = 0; r < importRounds; r++) {
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
    unbundledVsBare: perRound('unbundled', 'bare'),
    cachedUnbundledVsBare: perRound('unbundled+cache', 'bare'),
    bundleGain: perRound('dispatch', 'unbundled'),
  };
  const result: ColdStartResult = {
    rounds,
    variants,
    ratios: Object.fromEntries(Object.entries(ratiosPerRound).map(([name, values]) => [name, round(median(values), 3)])),
    ratiosPerRound,
    modules: {
      beforeFirstEvent: beforeSummary,
      byFirstDelivery: summariseBundleModules(after, metafile),
      notLoaded: MUST_NOT_LOAD.filter((name) => !(name in beforeSummary.packages)),
      loadedBeforeFirstEvent: before.filter((url) => url.startsWith('file:')).map((url) => relative(ROOT, fileURLToPath(url))),
      bareBeforeFirstEvent: bareSummary,
      onlyInDispatch,
    },
    importMs: Object.fromEntries(Object.entries(importRuns).filter(([, values]) => values.length > 0).map(([name, values]) => [name === 'node:os' ? '(node alone)' : name, round(median(values.map((v) => v.ms)), 1)])),
    importRssMB: Object.fromEntries(Object.entries(importRuns).filter(([, values]) => values.length > 0).map(([name, values]) => [name === 'node:os' ? '(node alone)' : name, round(median(values.map((v) => v.rss)) / 1048576, 1)])),
    bundle,
  };
  writeResult(result);
  receiver.close();
  receiver.closeAllConnections();
  rmSync(work, { recursive: true, force: true });
  process.exit(0);
}

await main();
