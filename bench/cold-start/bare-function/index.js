// The bare comparison of the cold-start section: a functions-framework CloudEvent function importing
// only the client libraries the dispatch path needs (Firestore, got, liquidjs) and doing the same I/O
// as one delivery (query the subscribed webhooks, create the record, render, POST, update the record),
// with none of hookshape's own code. Plain JavaScript so that it loads as the built function does.
import { Agent } from 'node:http';
import * as functions from '@google-cloud/functions-framework';
import { Firestore } from '@google-cloud/firestore';
import got from 'got';
import { Liquid } from 'liquidjs';

let db;
let client;
const liquid = new Liquid();

functions.cloudEvent('dispatchEvent', async (cloudEvent) => {
  db ??= new Firestore({ projectId: process.env.GOOGLE_CLOUD_PROJECT });
  client ??= got.extend({ agent: { http: new Agent({ keepAlive: true }) }, retry: { limit: 0 }, throwHttpErrors: false });
  const event = JSON.parse(Buffer.from(cloudEvent.data.message.data, 'base64').toString('utf8'));
  const snapshot = await db.collection(`accounts/${event.accountId}/webhooks`).where('events', 'array-contains', event.type).get();
  await Promise.all(
    snapshot.docs.map(async (doc) => {
      const webhook = doc.data();
      const ref = db.doc(`${doc.ref.path}/deliveries/${event.id}`);
      await ref.create({ status: 'pending', event, createdAt: new Date() });
      const context = { event, data: event.data, webhook: { id: doc.id, name: webhook.name }, secrets: {} };
      const headers = { 'content-type': 'application/json' };
      for (const [name, source] of Object.entries(webhook.headers ?? {})) headers[name] = liquid.parseAndRenderSync(source, context);
      const url = liquid.parseAndRenderSync(webhook.url, context);
      const response = await client.post(url, { headers, body: liquid.parseAndRenderSync(webhook.body, context) });
      await ref.update({ status: response.statusCode < 300 ? 'succeeded' : 'failed', updatedAt: new Date() });
    }),
  );
});
