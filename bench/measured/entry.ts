/**
 * The production code the in-process sections (send, render, firestore) measure. It is not imported
 * from here: bench/measured/built.ts bundles this file with the deployable's esbuild settings
 * (scripts/build.ts) into bench/.out/measured, and the sections import that bundle, so that they run
 * the code as built — liquidjs, got and the Firestore client included, as the bundle carries them.
 */
export { loadConfig } from '../../functions/src/config/runtime-config.ts';
export { systemClock } from '../../functions/src/core/ports.ts';
export { attemptRecord } from '../../functions/src/delivery/delivery-record.ts';
export { DEFAULT_LEASE_TIMING, pendingDelivery } from '../../functions/src/delivery/lease.ts';
export { FIRST_ATTEMPT } from '../../functions/src/delivery/next-attempt.ts';
export { deliveryKey, runAttempts } from '../../functions/src/delivery/run-attempts.ts';
export { dispatchEvent } from '../../functions/src/dispatch/dispatch-event.ts';
export { createDependencies } from '../../functions/src/entry/dependencies.ts';
export { parseEventMessage } from '../../functions/src/events/event-message.ts';
export { silentLogger } from '../../functions/src/log/logger.ts';
export { buildRequest, templateContext } from '../../functions/src/render/build-request.ts';
export { escapers } from '../../functions/src/render/output-escapers.ts';
export { RENDER_LIMITS } from '../../functions/src/render/render-limits.ts';
export { TemplateEngine } from '../../functions/src/render/template-engine.ts';
export { classifyOutcome } from '../../functions/src/send/classify-outcome.ts';
export { GotHttpSender, sendThroughGot } from '../../functions/src/send/got-http-sender.ts';
export { MAX_RESPONSE_READ_BYTES } from '../../functions/src/send/http-sender.ts';
export { parseWebhookConfig } from '../../functions/src/webhooks/webhook-config.ts';
/** The bundle's own copy of the Firestore client, which the production adapters above use: the firestore section counts operations on it. */
export { DocumentReference, Firestore, Query, Transaction } from '@google-cloud/firestore';
/** The bundle's got and SSRF-guarding agent: the send section's sender variants build on them (lib/bench-senders.ts). */
export { default as got } from 'got';
export { RequestFilteringHttpAgent } from 'request-filtering-agent';
