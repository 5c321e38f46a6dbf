import type { CloudEvent } from '@google-cloud/functions-framework';
import { dispatchEvent, type DispatchDeps } from '../dispatch/dispatch-event.ts';

/** The Pub/Sub message inside a messagePublished CloudEvent. */
interface MessagePublishedData {
  message?: { data?: string; attributes?: Record<string, string>; messageId?: string; message_id?: string };
}

/**
 * The CloudEvent entry of the dispatcher. Throwing makes Pub/Sub redeliver (RETRY_POLICY_RETRY), so it
 * throws only for infrastructure failures; bad events are recorded and acknowledged.
 */
export function createDispatchHandler(deps: () => DispatchDeps) {
  return async (cloudEvent: CloudEvent<MessagePublishedData>): Promise<void> => {
    const message = cloudEvent.data?.message;
    const messageId = message?.messageId ?? message?.message_id ?? cloudEvent.id;
    await dispatchEvent(deps(), {
      messageId,
      data: message?.data ? Buffer.from(message.data, 'base64') : undefined,
      attributes: message?.attributes ?? {},
    });
  };
}
