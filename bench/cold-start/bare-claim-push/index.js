// The push-latency section's second bare comparison: the smallest push-to-webhook bridge that does not
// send an event twice when Pub/Sub redelivers it and keeps a record of what the receiver answered — the
// same Firestore writes as the dispatch function's: it decodes the message, claims the event with one
// create (a redelivery finds it and sends nothing), makes one got request, and creates the result's
// record. No configuration read, no template, no schema check. The fan-out section sends events with a
// `fanOut` field: the POST and its record then go to that many "webhooks" at once; the memory section a
// `receiverPath` (a path the receiver holds). Plain JavaScript.
import { Agent } from 'node:http';
import * as functions from '@google-cloud/functions-framework';
import { Firestore } from '@google-cloud/firestore';
import got from 'got';

const client = got.extend({ agent: { http: new Agent({ keepAlive: true }) }, retry: { limit: 0 }, throwHttpErrors: false });
const receiver = process.env.BENCH_RECEIVER_URL;
let db;

functions.cloudEvent('dispatchEvent', async (cloudEvent) => {
  db ??= new Firestore({ projectId: process.env.GOOGLE_CLOUD_PROJECT });
  const text = Buffer.from(cloudEvent.data.message.data, 'base64').toString('utf8');
  const event = JSON.parse(text);
  try {
    await db.doc(`bareClaims/${event.id}`).create({ claimedAt: new Date() });
  } catch (error) {
    if (error.code === 6) return; // ALREADY_EXISTS: a redelivery, already sent
    throw error;
  }
  await Promise.all(
    Array.from({ length: event.fanOut ?? 1 }, async (_, i) => {
      const response = await client.post(`${receiver}${event.receiverPath ?? '/v0/appDemo/Calls'}`, { headers: { 'content-type': 'application/json', 'x-hookshape-event': event.id }, body: text });
      await db.doc(`bareClaims/${event.id}/results/webhook_${i}`).create({ status: response.statusCode, body: response.body, at: new Date() });
    }),
  );
});
