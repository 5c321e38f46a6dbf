import * as functions from '@google-cloud/functions-framework';
import { loadConfig } from './config/runtime-config.ts';
import { createDependencies, type Dependencies } from './entry/dependencies.ts';
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

functions.cloudEvent('dispatchEvent', dispatchEvent);
functions.http('retryWorker', retryWorker);
functions.cloudEvent('validateWebhook', validateWebhook);
functions.http('repairDeliveries', repairDeliveries);
