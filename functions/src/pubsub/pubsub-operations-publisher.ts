import type { Topic } from '@google-cloud/pubsub';
import type { EventMessage } from '../events/event-message.ts';
import type { OperationsPublisher } from '../events/operational-events.ts';

/**
 * Operational events on the operations topic, as the platform publishes its own events: the event
 * message as UTF-8 JSON, `type` and `accountId` as attributes (the dispatcher checks they agree). The
 * client is loaded on the first publish (an external package, like the Cloud Tasks client): the
 * instances that never announce anything never load it.
 * One message per publish (no batching wait) and a bounded RPC: the caller has a record to finish.
 */
export class PubSubOperationsPublisher implements OperationsPublisher {
  private topic: Promise<Topic> | undefined;
  private readonly projectId: string;
  private readonly topicName: string;

  constructor(projectId: string, topicName: string) {
    this.projectId = projectId;
    this.topicName = topicName;
  }

  async publish(event: EventMessage): Promise<void> {
    const loading = (this.topic ??= import('@google-cloud/pubsub').then(({ PubSub }) =>
      new PubSub({ projectId: this.projectId }).topic(this.topicName, { batching: { maxMessages: 1, maxMilliseconds: 0 }, gaxOpts: { timeout: 8_000 } }),
    ));
    loading.catch(() => this.topic === loading && (this.topic = undefined));
    const topic = await loading;
    await topic.publishMessage({ data: Buffer.from(JSON.stringify(event)), attributes: { type: event.type, accountId: event.accountId } });
  }
}
