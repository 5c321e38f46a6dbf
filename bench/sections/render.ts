/**
 * Section: render cost. µs per render of the realistic webhook's templates (URL, headers, body) by the
 * production TemplateEngine, prepared once (as a delivery renders them) and parsed each time, next to bare liquidjs, and the other
 * synchronous steps of a delivery (request checks, outcome, log record), to show where CPU goes.
 */
import { Liquid } from 'liquidjs';
import type { SendResult } from '../../functions/src/send/http-sender.ts';
import { measuredCode } from '../measured/built.ts';
import { writeResult, sectionOptions, progress } from '../lib/child.ts';
import { benchEvent, benchWebhook, DEMO_ACCOUNT, DEMO_SECRETS, DEMO_WEBHOOK_ID, demoWebhook } from '../lib/fixtures.ts';
import { median, microAlternate, round } from '../lib/measure.ts';

// The production code as built (bench/measured); the bare liquidjs comparisons use node_modules' copy.
const { attemptRecord, buildRequest, classifyOutcome, escapers, parseEventMessage, parseWebhookConfig, RENDER_LIMITS, templateContext, TemplateEngine } = await measuredCode();

export interface RenderOptions {
  batches: number;
  minBatchMs: number;
}

export interface RenderResult {
  /** µs per render of all the webhook's templates by the production engine, prepared once per webhook version. */
  cachedUs: number;
  /** The same, parsed each time. */
  parsedUs: number;
  /** The body template alone, from the cache and parsed each time. */
  bodyCachedUs: number;
  bodyParsedUs: number;
  /** Context: bare liquidjs (defaults) from parsed templates; with production's limits only; with JSON escaping only. */
  bareLiquidUs: number;
  liquidWithLimitsUs: number;
  liquidWithEscapeUs: number;
  /** Context: buildRequest from the cache (render + URL, header and JSON checks), and what it adds to the render alone. */
  buildRequestUs: number;
  buildOverRenderUs: number;
  /** Context: classifyOutcome + attemptRecord (redaction, cut bodies) of a 200 answer. */
  classifyAndRecordUs: number;
  /** Context: what dispatchEvent adds per event and per delivery: the event's and the webhook's schema checks (zod). */
  parseEventUs: number;
  parseWebhookUs: number;
  outputs: number;
}

async function main(): Promise<void> {
  const options = sectionOptions<RenderOptions>();
  const webhook = benchWebhook('http://127.0.0.1:8080/v0/appDemo/Calls', undefined, undefined, parseWebhookConfig);
  const event = benchEvent();
  const context = templateContext(webhook, event, DEMO_SECRETS);
  const fields: Array<[string, string, 'url' | 'none' | 'json']> = [
    ['url', webhook.url, 'url'],
    ...Object.entries(webhook.headers).map(([name, source]) => [`headers.${name}`, source, 'none'] as [string, string, 'none']),
    ['body', webhook.body!, 'json'],
  ];
  const engine = new TemplateEngine();
  const cache = (engine as unknown as { cache: Map<string, unknown> }).cache;
  // As a delivery renders: the webhook's templates prepared once per webhook version (build-request.ts).
  const prepared = fields.map(([field, source, mode]) => engine.prepare(field, source, mode));
  const preparedBody = engine.prepare('body', webhook.body!, 'json');
  const renderAll = () => {
    for (const template of prepared) engine.renderPrepared(template, context);
  };
  const parseAndRenderAll = () => {
    for (const [field, source, mode] of fields) engine.render(field, source, mode, context);
  };
  const liquidOf = (liquid: Liquid) => {
    const parsed = fields.map(([, source]) => liquid.parse(source));
    return () => {
      for (const template of parsed) liquid.renderSync(template, context);
    };
  };
  const limits = { ownPropertyOnly: true, parseLimit: RENDER_LIMITS.templateChars, renderLimit: RENDER_LIMITS.renderMs, memoryLimit: RENDER_LIMITS.memory, strictFilters: true };

  const first = await buildRequest(webhook, event, DEMO_SECRETS, engine);
  if (!first.ok) throw first.error;
  const request = first.request;
  const sent: SendResult = {
    kind: 'response',
    status: 200,
    headers: { 'content-type': 'application/json', 'content-length': '58', date: new Date().toUTCString(), connection: 'keep-alive', 'keep-alive': 'timeout=120' },
    body: Buffer.from('{"id":"rec_bench","createdTime":"2026-11-23T00:00:00.000Z"}'),
    truncated: false,
    durationMs: 1,
  };

  const eventData = Buffer.from(JSON.stringify(event));
  const eventAttributes = { type: event.type, accountId: event.accountId };
  const webhookDocument = demoWebhook('http://127.0.0.1:8080/v0/appDemo/Calls');

  progress(`render: production engine from the cache and parsed each time, bare liquidjs, log record (${options.batches} alternating batches)`);
  const us = microAlternate(
    {
      cached: renderAll,
      parsed: () => {
        cache.clear();
        parseAndRenderAll();
      },
      bodyCached: () => engine.renderPrepared(preparedBody, context),
      bodyParsed: () => {
        cache.clear();
        engine.render('body', webhook.body!, 'json', context);
      },
      bareLiquid: liquidOf(new Liquid()),
      liquidWithLimits: liquidOf(new Liquid(limits)),
      liquidWithEscape: liquidOf(new Liquid({ outputEscape: escapers.json })),
      parseEvent: () => parseEventMessage(eventData, eventAttributes),
      parseWebhook: () => parseWebhookConfig(DEMO_ACCOUNT, DEMO_WEBHOOK_ID, webhookDocument),
      classifyAndRecord: () => {
        const now = new Date();
        return attemptRecord({ number: 1, target: 'primary', attemptOfTarget: 1, startedAt: now, request, sent, outcome: classifyOutcome(sent, now) });
      },
    },
    { batches: options.batches, minBatchMs: options.minBatchMs },
  );

  // buildRequest is async (a body check may load a parser on first use); measured in an awaited loop.
  // Alternating awaited batches of buildRequest and of the bare render, so that the difference (what
  // buildRequest adds to rendering) comes from batches that ran side by side.
  const awaitedBatch = async (fn: () => unknown): Promise<number> => {
    const t0 = performance.now();
    let n = 0;
    while (performance.now() - t0 < options.minBatchMs) {
      await fn();
      n++;
    }
    return ((performance.now() - t0) * 1000) / n;
  };
  const build = () => buildRequest(webhook, event, DEMO_SECRETS, engine);
  await awaitedBatch(build);
  const buildRuns: number[] = [];
  const buildOver: number[] = [];
  for (let b = 0; b < options.batches; b++) {
    const built = await awaitedBatch(build);
    const rendered = await awaitedBatch(renderAll);
    buildRuns.push(built);
    buildOver.push(built - rendered);
  }

  const outputs = (webhook.body!.match(/\{\{/g) ?? []).length;
  const r = (value: number) => round(value, 1);
  const result: RenderResult = {
    cachedUs: r(us.cached),
    parsedUs: r(us.parsed),
    bodyCachedUs: r(us.bodyCached),
    bodyParsedUs: r(us.bodyParsed),
    bareLiquidUs: r(us.bareLiquid),
    liquidWithLimitsUs: r(us.liquidWithLimits),
    liquidWithEscapeUs: r(us.liquidWithEscape),
    buildRequestUs: r(median(buildRuns)),
    buildOverRenderUs: r(median(buildOver)),
    classifyAndRecordUs: r(us.classifyAndRecord),
    parseEventUs: r(us.parseEvent),
    parseWebhookUs: r(us.parseWebhook),
    outputs,
  };
  writeResult(result);
  process.exit(0);
}

await main();
