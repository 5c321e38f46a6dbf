import { randomBytes } from 'node:crypto';
import { sampleEvent } from '../../src/events/event-catalogue.ts';
import { deliveryPath } from '../../src/firestore/firestore-layout.ts';
import { COMMON_HELP, parseCommand, parsePositiveInteger, parseWebhookRef } from '../cli-args.ts';
import { describeDelivery, isFinal, waitForDeliveries } from '../cli-deliveries.ts';
import { checkFailed, dim, note, out, printJson, usageError } from '../cli-output.ts';
import { describeState, requireStoredWebhook, webhookState } from '../cli-webhooks.ts';
import type { CommandContext } from './command.ts';
import { requireEventType } from './events-command.ts';

export const SEND_TEST_HELP = `hookshape send-test <account>/<webhook> [--event <type>] — send a sample event for real

Publishes the catalogue sample of an event type, with a fresh event id, for the account to the events
topic (EVENTS_TOPIC, default hookshape-events): the deployed dispatcher delivers it like any event.
Then waits for the delivery log to reach a final status and prints the outcome: status, each attempt's
target, HTTP status or error, and the start of the response body.

Options:
  --event TYPE         the event type (default: the webhook's first event)
  --timeout SECONDS    how long to wait for the outcome (default 60)
  --no-wait-retries    stop waiting once the delivery is retrying (retries can take minutes)

Exit code: 0 delivered (succeeded), 1 anything else (failed, invalid, retrying, no outcome in time),
2 usage error, 3 cannot reach the emulators or Google Cloud.

${COMMON_HELP}`;

export async function sendTestCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand('send-test', args, { event: { type: 'string' }, timeout: { type: 'string' }, 'wait-retries': { type: 'boolean', default: true } });
  if (values.help) return context.help(SEND_TEST_HELP);
  if (positionals.length !== 1) throw usageError('give one webhook: <account>/<webhook>', 'send-test');
  const { accountId, webhookId } = parseWebhookRef(positionals[0], 'send-test');
  const timeoutSeconds = parsePositiveInteger(values.timeout, 'timeout', 60, 3600, 'send-test');
  const environment = context.environment(values.project, 'send-test');
  const data = await requireStoredWebhook(environment, accountId, webhookId);
  const state = webhookState(accountId, webhookId, data);
  if (!values.json) note(describeState(state));
  const type = requireEventType(values.event ?? state.events[0] ?? '', 'send-test');
  if (!state.events.includes(type)) throw usageError(`${state.path} does not subscribe to ${type} (its events: ${state.events.join(', ') || 'none'})`, 'send-test');
  if (!state.enabled) throw checkFailed(`${state.path} is disabled (enabled: false): the dispatcher would not deliver the event. Set enabled to true first.`);
  if (state.validation.state === 'failed') throw checkFailed(`${state.path} failed its validation: the dispatcher skips it until the document is fixed (hookshape validate ${accountId}/${webhookId})`);

  const event = { ...sampleEvent(type, accountId), id: `evt_test_${Date.now().toString(36)}_${randomBytes(3).toString('hex')}`, occurredAt: new Date().toISOString() };
  const pubsub = await environment.pubsub();
  const topic = environment.config.eventsTopic;
  await environment.call(`publish to the topic ${topic}`, () => pubsub.topic(topic).publishMessage({ json: event, attributes: { type: event.type, accountId: event.accountId } }));
  if (!values.json) note(dim(`published ${type} ${event.id} for ${accountId} to ${topic}; waiting up to ${timeoutSeconds} s for the delivery...`));

  const waitRetries = values['wait-retries'] !== false;
  const key = { accountId, webhookId, eventId: event.id };
  const { records, timedOut } = await waitForDeliveries(environment, [key], (record) => isFinal(record) || (!waitRetries && record.status === 'retrying'), timeoutSeconds * 1000);
  const record = records[0];
  if (values.json) printJson({ event: { id: event.id, type, accountId }, timedOut, delivery: record ?? null });
  else if (record) out(describeDelivery(record));
  if (!record) {
    note(`no delivery record at ${deliveryPath(accountId, webhookId, event.id)} after ${timeoutSeconds} s: the dispatcher did not handle the event (is it deployed and subscribed to ${topic}? are there invalidEvents?)`);
    return 1;
  }
  if (timedOut) note(`no final status after ${timeoutSeconds} s (still ${record.status}); follow it with: hookshape deliveries ${accountId}/${webhookId}`);
  return record.status === 'succeeded' ? 0 : 1;
}
