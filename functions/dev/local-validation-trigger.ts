/**
 * The local stack's stand-in for Eventarc's Firestore trigger: the Firestore emulator emits no events,
 * so a listener on the webhooks collection group turns each written (or deleted) webhook document into
 * the CloudEvent Eventarc would send (binary mode, ce-subject documents/accounts/A/webhooks/W), posted
 * to validateWebhook served by the functions framework. Dev tooling, not deployed.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Firestore } from '@google-cloud/firestore';
import * as functions from '@google-cloud/functions-framework';
import { getTestServer } from '@google-cloud/functions-framework/testing';
import { systemClock } from '../src/core/ports.ts';
import { createValidateWebhookHandler } from '../src/entry/validate-webhook-handler.ts';
import { WEBHOOKS } from '../src/firestore/firestore-layout.ts';
import { FirestoreWebhookStore } from '../src/firestore/firestore-webhook-store.ts';
import type { Logger } from '../src/log/logger.ts';
import { TemplateEngine } from '../src/render/template-engine.ts';

/** Serves validateWebhook on 127.0.0.1 and feeds it the writes of webhook documents; returns a stop. */
export async function startLocalValidationTrigger(options: { db: Firestore; projectId: string; logger: Logger; onError: (message: string) => void }): Promise<() => Promise<void>> {
  // allowLoopback: the local stack runs with ALLOW_LOOPBACK_DESTINATIONS=true, so localhost receivers are valid.
  const deps = { engine: new TemplateEngine(), webhookDocuments: new FirestoreWebhookStore(options.db), clock: systemClock, logger: options.logger, allowLoopback: true };
  functions.cloudEvent('validateWebhook', createValidateWebhookHandler(() => deps));
  const server: Server = getTestServer('validateWebhook');
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/`;

  // One event at a time, in order, as a trigger with max instances 1 would see them.
  let queue = Promise.resolve();
  const post = (document: string) =>
    (queue = queue.then(async () => {
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: {
            'content-type': 'application/protobuf',
            'ce-specversion': '1.0',
            'ce-id': randomBytes(8).toString('hex'),
            'ce-source': `//firestore.googleapis.com/projects/${options.projectId}/databases/(default)`,
            'ce-type': 'google.cloud.firestore.document.v1.written',
            'ce-time': new Date().toISOString(),
            'ce-subject': `documents/${document}`,
            'ce-database': '(default)',
            'ce-document': document,
          },
          body: Buffer.alloc(0),
        });
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
    server.closeAllConnections?.();
    await new Promise((resolve) => server.close(resolve));
  };
}
