import * as functions from '@google-cloud/functions-framework';
import { loadConfig } from './config/runtime-config.ts';
import { createApiHandler, type FetchApp } from './entry/api-handler.ts';
import { createDeadLetterHandler } from './entry/dead-letter-handler.ts';
import { createDeadLetterDependencies, createDependencies, type Dependencies } from './entry/dependencies.ts';
import type { DeadLetterDeps } from './events/dead-letters.ts';
import { createDispatchHandler } from './entry/dispatch-handler.ts';
import { createRepairHandler } from './entry/repair-handler.ts';
import { createRetryWorkerHandler } from './entry/retry-worker-handler.ts';
import { createValidateWebhookHandler } from './entry/validate-webhook-handler.ts';

// Built on the first invocation and kept for the instance's life (clients, agents, caches).
let dependencies: Dependencies | undefined;
const deps = (): Dependencies => (dependencies ??= createDependencies(loadConfig()));

export const dispatchEvent = createDispatchHandler(deps);
export const retryWorker = createRetryWorkerHandler(deps);
export const validateWebhook = createValidateWebhookHandler(deps);
export const repairDeliveries = createRepairHandler(deps);

// The dead-letter topic's push: its own small set of adapters (no Firestore), so it works while the
// dispatcher's dependencies are what fails.
let deadLetterDependencies: DeadLetterDeps | undefined;
export const deadLetterNotify = createDeadLetterHandler(() => (deadLetterDependencies ??= createDeadLetterDependencies(loadConfig())));

// The management API loads its app (hono, zod-openapi, jose) on its first request: a separate chunk,
// never loaded by the other functions' instances.
let apiApp: Promise<FetchApp> | undefined;
export const api = createApiHandler(() => {
  const app = (apiApp ??= Promise.all([import('./api/api-app.ts'), import('./entry/api-dependencies.ts')]).then(([{ createApiApp }, { createApiDependencies }]): FetchApp => createApiApp(createApiDependencies(loadConfig()))));
  app.catch(() => apiApp === app && (apiApp = undefined));
  return app;
});

functions.cloudEvent('dispatchEvent', dispatchEvent);
functions.http('retryWorker', retryWorker);
functions.cloudEvent('validateWebhook', validateWebhook);
functions.http('repairDeliveries', repairDeliveries);
functions.cloudEvent('deadLetterNotify', deadLetterNotify);
functions.http('api', api);
