import type { CloudEvent } from '@google-cloud/functions-framework';
import { classifyFailure, errorMessage } from '../core/failures.ts';
import { dispatchEvent, type DispatchDeps } from '../dispatch/dispatch-event.ts';
import { messageBytes } from '../events/event-message.ts';

/** The Pub/Sub message inside a messagePublished CloudEvent. */
export interface MessagePublishedData {
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
    const d = deps();
    try {
      await dispatchEvent(d, {
        messageId,
        data: message?.data ? messageBytes(message.data) : undefined,
        attributes: message?.attributes ?? {},
      });
    } catch (error) {
      const stack = (error as Error)?.stack ?? null;
      if (classifyFailure(error) === 'transient') {
        d.logger.log('WARNING', `event ${messageId} will be redelivered: ${errorMessage(error)}`, { messageId, stack });
        throw error;
      }
      // dispatchEvent records lasting faults where people look; one that escapes it (e.g. the
      // invalidEvents write was refused) would fail the same way at every redelivery. The message is
      // logged in full and acknowledged.
      d.logger.log('ERROR', `event ${messageId} could not be dispatched (errorCode internal_error): ${errorMessage(error)}`, { messageId, errorCode: 'internal_error', notDispatched: true, data: message?.data?.slice(0, 32 * 1024) ?? null, attributes: JSON.stringify(message?.attributes ?? {}), stack });
    }
  };
}
