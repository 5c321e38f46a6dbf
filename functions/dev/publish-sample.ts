/**
 * `npm run publish-sample -- <type> [accountId]`: publishes the catalogue's sample event of a type to the
 * running local stack (read from .local/stack.json). Dev tooling.
 */
import { readFileSync } from 'node:fs';
import { PubSub } from '@google-cloud/pubsub';
import { EVENT_TYPES, isEventType, sampleEvent } from '../src/events/event-catalogue.ts';
import { DEMO_ACCOUNT } from './demo-webhook.ts';
import { STACK_FILE } from './local-paths.ts';

const [type = 'call.created', accountId = DEMO_ACCOUNT] = process.argv.slice(2);
if (!isEventType(type)) {
  console.error(`unknown event type '${type}'; one of: ${EVENT_TYPES.join(', ')}`);
  process.exit(2);
}
let stack: { projectId: string; topic: string; pubsub: string };
try {
  stack = JSON.parse(readFileSync(STACK_FILE, 'utf8'));
} catch {
  console.error('the local stack is not running: start it with npm start');
  process.exit(2);
}
process.env.PUBSUB_EMULATOR_HOST = stack.pubsub;
process.env.METADATA_SERVER_DETECTION = 'none';
const event = { ...sampleEvent(type, accountId), id: `evt_local_${Date.now().toString(36)}`, occurredAt: new Date().toISOString() };
const pubsub = new PubSub({ projectId: stack.projectId });
await pubsub.topic(stack.topic).publishMessage({ json: event, attributes: { type: event.type, accountId: event.accountId } });
console.log(`published ${event.type} ${event.id} for ${accountId}`);
await pubsub.close();
