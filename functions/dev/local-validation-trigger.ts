/**
 * The local stack's stand-in for Eventarc's Firestore trigger: the Firestore emulator emits no events,
 * so a listener on the webhooks collection group turns each written (or deleted) webhook document into
 * the CloudEvent Eventarc would send (binary mode, ce-subject documents/accounts/A/webhooks/W), posted
 * to validateWebhook from build/functions, served by the functions framework in its own process as in
 * the cloud. Dev tooling, not deployed.
 */
import type { Firestore } from '@google-cloud/firestore';
import { WEBHOOKS } from '../src/firestore/firestore-layout.ts';
import { firestoreWrittenRequest } from './firestore-trigger-event.ts';
import { startFunctionProcess } from './function-process.ts';

export interface LocalValidationTriggerOptions {
  db: Firestore;
  projectId: string;
  /** The function's environment (GOOGLE_CLOUD_PROJECT, FIRESTORE_EMULATOR_HOST...). */
  env: Record<string, string | undefined>;
  /** Each line the function writes (its structured JSON log lines on stdout). */
  onLine: (line: string) => void;
  onError: (message: string) => void;
}

/** Starts validateWebhook and feeds it the writes of webhook documents; returns a stop. */
export async function startLocalValidationTrigger(options: LocalValidationTriggerOptions): Promise<() => Promise<void>> {
  const validate = await startFunctionProcess({ target: 'validateWebhook', env: options.env, onLine: (line) => options.onLine(line) });

  // One event at a time, in order, as a trigger with max instances 1 would see them.
  let queue = Promise.resolve();
  const post = (document: string) =>
    (queue = queue.then(async () => {
      try {
        const response = await fetch(validate.url, firestoreWrittenRequest(options.projectId, document));
        await response.text();
        if (!response.ok) options.onError(`validateWebhook answered ${response.status} for ${document}`);
      } catch (error) {
        options.onError(`validateWebhook unreachable for ${document}: ${(error as Error).message}`);
      }
    }));

  const unsubscribe = options.db.collectionGroup(WEBHOOKS).onSnapshot(
    (snapshot) => {
      for (const change of snapshot.docChanges()) post(change.doc.ref.path);
    },
    (error) => options.onError(`the webhooks listener stopped: ${error.message}`),
  );
  return async () => {
    unsubscribe();
    await queue;
    await validate.stop();
  };
}
