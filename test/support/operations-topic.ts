/**
 * Reads the operations topic as an operator would: a pull subscription of its own (`<topic>-inspect`)
 * collecting every message published there since the call, parsed.
 */
import type { Message, Subscription } from '@google-cloud/pubsub';
import type { EventMessage } from './kit.ts';
import type { Harness } from './harness.ts';

export interface OperationsWatch {
  /** Every message of the operations topic since the watch began, in arrival order. */
  published: Array<{ event: EventMessage; attributes: Record<string, string> }>;
  close(): Promise<void>;
}

export async function watchOperationsTopic(h: Harness): Promise<OperationsWatch> {
  const published: OperationsWatch['published'] = [];
  const [topic] = await h.pubsub.topic(h.operationsTopic).get({ autoCreate: true });
  const [subscription]: [Subscription, ...unknown[]] = await topic.createSubscription(`${h.operationsTopic}-inspect`, { ackDeadlineSeconds: 60 });
  subscription.on('message', (message: Message) => {
    published.push({ event: JSON.parse(message.data.toString('utf8')) as EventMessage, attributes: message.attributes });
    message.ack();
  });
  return { published, close: () => subscription.close() };
}
