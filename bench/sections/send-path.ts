/**
 * Section: the send path. Deliveries per second of the real send path (runAttempts: render, escape,
 * build and check the request, send with the production got instance, classify, build the log record)
 * next to bare loops of the two libraries, at several concurrencies, in alternating windows. Then, at
 * one concurrency, variants that each undo one design choice, to show what each choice is worth.
 */
import { Agent, request as httpRequest } from 'node:http';
import got from 'got';
import { Liquid } from 'liquidjs';
import type { DispatchDeps } from '../../functions/src/dispatch/dispatch-event.ts';
import type { DeliveryDeps } from '../../functions/src/delivery/run-attempts.ts';
import type { TemplateEngine } from '../../functions/src/render/template-engine.ts';
import type { HttpSender } from '../../functions/src/send/http-sender.ts';
import { measuredCode } from '../measured/built.ts';
import { PRODUCTION_VARIANT, VariantSender, type SenderVariant } from '../lib/bench-senders.ts';
import { progress, sectionOptions, writeResult } from '../lib/child.ts';
import { benchEvent, benchWebhook, DEMO_SECRETS, demoWebhook, memoryPorts, DEMO_WEBHOOK_ID } from '../lib/fixtures.ts';
import { alternate, median, runWindow, type Op, type WindowResult } from '../lib/measure.ts';
import { startReceiverProcess } from '../lib/receiver.ts';

// The production code as built (bench/measured): the bare loops below use liquidjs and got from node_modules.
const { DEFAULT_LEASE_TIMING, FIRST_ATTEMPT, GotHttpSender, buildRequest, deliveryKey, dispatchEvent, parseWebhookConfig, pendingDelivery, runAttempts, silentLogger, systemClock, templateContext, TemplateEngine: BuiltTemplateEngine } = await measuredCode();

export interface SendPathOptions {
  concurrencies: number[];
  rounds: number;
  windowMs: number;
  warmupMs: number;
  ablationConcurrency: number;
  ablationRounds: number;
  ablationWindowMs: number;
}

export interface Series {
  /** Median deliveries (requests) per second. */
  rate: number;
  /** Median CPU µs per delivery (request), this process only (the receiver runs in another). */
  cpuUs: number;
  rates: number[];
}

export interface SendPathResult {
  byConcurrency: Record<string, { series: Record<string, Series>; ratios: Record<string, number>; ratiosPerRound: Record<string, number[]> }>;
  ablation: { concurrency: number; series: Record<string, Series>; relativeToReal: Record<string, number>; cpuRelativeToBare: Record<string, number> };
  bodyBytes: number;
}

/**
 * The production engine, counting what it does, so that the run can check each variant still undoes
 * what it says it undoes (a production change once made a "parsed every time" variant a silent copy of
 * production). A counter per call costs nanoseconds against a delivery's millisecond. With
 * `parseEveryTime` the template cache is emptied before each use.
 */
class CountingTemplateEngine extends BuiltTemplateEngine {
  prepares = 0;
  parses = 0;
  renders = 0;
  private readonly parseEveryTime: boolean;
  constructor(parseEveryTime = false) {
    super();
    this.parseEveryTime = parseEveryTime;
  }
  override prepare(...args: Parameters<TemplateEngine['prepare']>) {
    this.prepares++;
    return super.prepare(...args);
  }
  override compile(...args: Parameters<TemplateEngine['compile']>) {
    if (this.parseEveryTime) (this as unknown as { cache: Map<string, unknown> }).cache.clear();
    const before = this.cachedTemplates;
    const templates = super.compile(...args);
    if (this.cachedTemplates > before) this.parses++; // a miss: parsed and added (a hit keeps the size)
    return templates;
  }
  override renderPrepared(...args: Parameters<TemplateEngine['renderPrepared']>) {
    this.renders++;
    return super.renderPrepared(...args);
  }
}

const summarise = (windows: WindowResult[]): Series => ({
  rate: Math.round(median(windows.map((w) => w.rate))),
  cpuUs: Math.round(median(windows.map((w) => w.cpuUs))),
  rates: windows.map((w) => Math.round(w.rate)),
});

/** Per-round ratio a/b (the two windows of a round ran side by side), then the median over rounds. */
const ratioPerRound = (a: WindowResult[], b: WindowResult[]): number[] => a.map((w, i) => w.rate / b[i]!.rate);
/** The same from CPU per operation (b's CPU ÷ a's): less sensitive to other processes taking the CPU. */
const cpuRatioPerRound = (a: WindowResult[], b: WindowResult[]): number[] => a.map((w, i) => b[i]!.cpuUs / w.cpuUs);

async function main(): Promise<void> {
  const options = sectionOptions<SendPathOptions>();
  const receiver = await startReceiverProcess();
  const url = `${receiver.url}/v0/appDemo/Calls`;
  const webhook = benchWebhook(url, undefined, undefined, parseWebhookConfig);
  const event = benchEvent();
  const secrets = DEMO_SECRETS;
  const ports = memoryPorts([{ id: DEMO_WEBHOOK_ID, data: demoWebhook(url) }]);
  const retry = { baseDelaySeconds: 60, retryAfterCapSeconds: 3600 };

  // One engine for the process, as in production (one per instance): variants given an engine of their
  // own with the same webhook object would replace each other's request plan at every window.
  const productionEngine = new CountingTemplateEngine();
  const deliveryDeps = (sender: HttpSender, engine: TemplateEngine = productionEngine): DeliveryDeps => ({
    engine,
    sender,
    deliveries: ports.deliveries,
    scheduler: ports.scheduler,
    clock: systemClock,
    logger: silentLogger,
    retry,
    timing: DEFAULT_LEASE_TIMING,
  });
  const failed = (what: string, detail: string) => {
    throw new Error(`${what}: a delivery did not succeed (${detail}); the bench measures the success path only`);
  };
  /**
   * The real send path: exactly what dispatchEvent runs per delivery, minus Firestore.
   * `newVersionEachDelivery` hands each delivery a new copy of the webhook, as if every delivery saw a
   * new version of it: the request plan (prepared templates, header checks) is then built every time.
   */
  const realPath = (deps: DeliveryDeps, newVersionEachDelivery = false): Op => async () => {
    const version = newVersionEachDelivery ? { ...webhook } : webhook;
    const record = pendingDelivery(event, version.id, version.name, new Date(), 30);
    const progress = { status: 'pending' as const, attempts: [], attemptsDropped: 0, takeovers: 0, repairs: 0, inFlight: undefined };
    const update = await runAttempts(deps, deliveryKey(record), event, version, secrets, FIRST_ATTEMPT, progress, silentLogger);
    if (update.status !== 'succeeded') failed('real path', update.lastError ?? update.status);
  };
  const realProduction = realPath(deliveryDeps(new GotHttpSender({ allowLoopback: true })));
  const realVariant = (changes: Partial<SenderVariant>) => realPath(deliveryDeps(new VariantSender({ ...PRODUCTION_VARIANT, ...changes })));

  // The bare libraries: liquidjs with its defaults rendering the same templates from parsed templates,
  // and got with a keep-alive agent posting the result.
  const bareAgent = new Agent({ keepAlive: true, maxSockets: 256 });
  const bareGot = got.extend({ agent: { http: bareAgent } });
  const liquid = new Liquid();
  const parsed = {
    url: liquid.parse(webhook.url),
    headers: Object.entries(webhook.headers).map(([name, source]) => [name, liquid.parse(source)] as const),
    body: liquid.parse(webhook.body!),
  };
  const context = templateContext(webhook, event, secrets);
  const render = () => {
    const headers: Record<string, string> = { 'content-type': 'application/json; charset=utf-8' };
    for (const [name, template] of parsed.headers) headers[name] = liquid.renderSync(template, context) as string;
    return { url: liquid.renderSync(parsed.url, context) as string, headers, body: liquid.renderSync(parsed.body, context) as string };
  };
  const fixed = render();
  const bodyBytes = Buffer.byteLength(fixed.body);
  const bareRenderAndGot: Op = async () => {
    const { url: target, headers, body } = render();
    const response = await bareGot.post(target, { headers, body });
    if (response.statusCode !== 200) failed('bare', String(response.statusCode));
  };
  const bareGotOnly: Op = async () => {
    const response = await bareGot.post(fixed.url, { headers: fixed.headers, body: fixed.body });
    if (response.statusCode !== 200) failed('got', String(response.statusCode));
  };
  const httpAgent = new Agent({ keepAlive: true, maxSockets: 256 });
  const httpHeaders = { ...fixed.headers, 'content-length': String(bodyBytes) };
  const nodeHttp: Op = () =>
    new Promise<void>((resolve, reject) => {
      const req = httpRequest(fixed.url, { method: 'POST', agent: httpAgent, headers: httpHeaders }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) reject(new Error(`node:http got ${res.statusCode}`));
          else resolve();
        });
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(fixed.body);
    });
  const fetchOnly: Op = async () => {
    const response = await fetch(fixed.url, { method: 'POST', headers: fixed.headers, body: fixed.body });
    await response.text();
    if (response.status !== 200) failed('fetch', String(response.status));
  };
  // The whole dispatcher (event JSON + schema, webhook schema, record, claim, runAttempts, update) with
  // in-memory ports: what our code adds beyond the send path, still without Firestore.
  const dispatchDeps: DispatchDeps = {
    // Its own engine: dispatchEvent parses the stored document into a webhook version of its own.
    ...deliveryDeps(new GotHttpSender({ allowLoopback: true }), new BuiltTemplateEngine()),
    webhooks: ports.webhooks,
    eventClaims: ports.eventClaims,
    invalidEvents: ports.invalidEvents,
    secrets: { secretsFor: async () => secrets },
    maxWebhooksPerEvent: 50,
    retentionDays: 30,
    concurrency: 16,
  };
  const message = { messageId: 'bench', data: Buffer.from(JSON.stringify(event)), attributes: { type: event.type, accountId: event.accountId } };
  const fullDispatch: Op = async () => {
    const [outcome] = await dispatchEvent(dispatchDeps, message);
    if (outcome?.status !== 'succeeded') failed('dispatchEvent', JSON.stringify(outcome));
  };

  // V8 needs seconds of use to optimise got and liquidjs (got's CPU per request halves meanwhile):
  // warm every path up before the first measured window.
  progress('send path: warming up');
  for (let i = 0; i < 3; i++) for (const op of [realProduction, bareRenderAndGot, bareGotOnly, nodeHttp]) await runWindow(op, 16, options.warmupMs);

  const byConcurrency: SendPathResult['byConcurrency'] = {};
  for (const concurrency of options.concurrencies) {
    progress(`send path at concurrency ${concurrency}: real path, bare render+got, bare got, node:http (${options.rounds} alternating rounds of ${options.windowMs} ms)`);
    const windows = await alternate(
      { real: realProduction, bare: bareRenderAndGot, got: bareGotOnly, http: nodeHttp },
      { concurrency, rounds: options.rounds, windowMs: options.windowMs, warmupMs: options.warmupMs },
    );
    const ratiosPerRound = {
      sendOverhead: ratioPerRound(windows.real, windows.bare),
      sendRatio: ratioPerRound(windows.real, windows.got),
      bareVsGot: ratioPerRound(windows.bare, windows.got),
      gotVsHttp: ratioPerRound(windows.got, windows.http),
      sendOverheadCpu: cpuRatioPerRound(windows.real, windows.bare),
      sendRatioCpu: cpuRatioPerRound(windows.real, windows.got),
      gotVsHttpCpu: cpuRatioPerRound(windows.got, windows.http),
    };
    byConcurrency[String(concurrency)] = {
      series: Object.fromEntries(Object.entries(windows).map(([name, w]) => [name, summarise(w as WindowResult[])])),
      ratios: Object.fromEntries(Object.entries(ratiosPerRound).map(([name, values]) => [name, median(values)])),
      ratiosPerRound,
    };
  }

  // Where our overhead goes: our request building with bare got, and bare rendering with our sender.
  const ourBuildBareGot: Op = async () => {
    const built = await buildRequest(webhook, event, secrets, productionEngine);
    if (!built.ok) throw built.error;
    const response = await bareGot.post(built.request.url, { headers: built.request.headers, body: built.request.body });
    if (response.statusCode !== 200) failed('buildRequest + bare got', String(response.statusCode));
  };
  const splitSender = new GotHttpSender({ allowLoopback: true });
  const bareRenderOurSender: Op = async () => {
    const { url: target, headers, body } = render();
    const sent = await splitSender.send({ method: 'POST', url: target, headers, body, timeoutMs: 10_000, secretValues: [], secretHeaders: [] });
    if (sent.kind !== 'response' || sent.status !== 200) failed('bare render + GotHttpSender', JSON.stringify(sent));
  };

  const c = options.ablationConcurrency;
  progress(`design choices at concurrency ${c}: each variant undoes one choice (${options.ablationRounds} alternating rounds of ${options.ablationWindowMs} ms)`);
  const parsingEngine = new CountingTemplateEngine(true);
  const planningEngine = new CountingTemplateEngine();
  const variants: Record<string, Op> = {
    real: realProduction,
    replica: realVariant({}),
    parsedEachTime: realPath(deliveryDeps(new GotHttpSender({ allowLoopback: true }), parsingEngine), true),
    planEachTime: realPath(deliveryDeps(new GotHttpSender({ allowLoopback: true }), planningEngine), true),
    optionsPerRequest: realVariant({ extend: false }),
    noKeepAlive: realVariant({ keepAlive: false }),
    gotDefaults: realVariant({ gotDefaults: true }),
    plainAgent: realVariant({ agent: 'plain' }),
    promiseApi: realVariant({ api: 'promise' }),
    dispatchEvent: fullDispatch,
    bare: bareRenderAndGot,
    ourBuildBareGot,
    bareRenderOurSender,
    got: bareGotOnly,
    fetch: fetchOnly,
    http: nodeHttp,
  };
  const windows = await alternate(variants, { concurrency: c, rounds: options.ablationRounds, windowMs: options.ablationWindowMs, warmupMs: options.warmupMs });
  const series = Object.fromEntries(Object.entries(windows).map(([name, w]) => [name, summarise(w as WindowResult[])]));
  const relativeToReal = Object.fromEntries(Object.entries(windows).map(([name, w]) => [name, median(ratioPerRound(w as WindowResult[], windows.real!))]));
  // CPU per delivery of each variant ÷ the bare loop's, per round: what each part adds.
  const cpuRelativeToBare = Object.fromEntries(Object.entries(windows).map(([name, w]) => [name, median((w as WindowResult[]).map((x, i) => x.cpuUs / windows.bare![i]!.cpuUs))]));

  // Each variant must have done what its name says, over the whole run (warm-ups included): otherwise
  // its figure measures something else, and the run fails rather than print it.
  const templatesPerDelivery = 2 + Object.keys(webhook.headers).length; // URL, body, headers
  const engineChecks: Array<[string, boolean, CountingTemplateEngine]> = [
    ['production: templates prepared once per webhook version, never parsed again', productionEngine.prepares <= templatesPerDelivery && productionEngine.parses <= templatesPerDelivery, productionEngine],
    ['parsedEachTime: every rendered template parsed for its delivery', parsingEngine.parses >= parsingEngine.renders && parsingEngine.renders > 0, parsingEngine],
    ['planEachTime: every rendered template prepared for its delivery, from the cache', planningEngine.prepares >= planningEngine.renders && planningEngine.renders > 0 && planningEngine.parses <= templatesPerDelivery, planningEngine],
  ];
  const broken = engineChecks.filter(([, holds]) => !holds).map(([claim, , engine]) => `${claim} (${engine.renders} renders, ${engine.prepares} prepares, ${engine.parses} parses)`);
  if (broken.length > 0) throw new Error(`send path: variants that do not do what they claim: ${broken.join('; ')}`);

  receiver.stop();
  const result: SendPathResult = { byConcurrency, ablation: { concurrency: c, series, relativeToReal, cpuRelativeToBare }, bodyBytes };
  writeResult(result);
  process.exit(0);
}

await main();
