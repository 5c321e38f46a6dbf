// The bare comparison of the push-latency section: a functions-framework CloudEvent function that
// decodes the Pub/Sub message and makes one got request with it, as a user would write the smallest
// push-to-webhook bridge: no configuration read, no record, no template. Plain JavaScript.
import { Agent } from 'node:http';
import * as functions from '@google-cloud/functions-framework';
import got from 'got';

const client = got.extend({ agent: { http: new Agent({ keepAlive: true }) }, retry: { limit: 0 }, throwHttpErrors: false });
const receiver = process.env.BENCH_RECEIVER_URL;

functions.cloudEvent('dispatchEvent', async (cloudEvent) => {
  const text = Buffer.from(cloudEvent.data.message.data, 'base64').toString('utf8');
  const event = JSON.parse(text);
  await client.post(`${receiver}/v0/appDemo/Calls`, { headers: { 'content-type': 'application/json', 'x-hookshape-event': event.id }, body: text });
});
