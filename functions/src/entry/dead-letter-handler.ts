import type { CloudEvent } from '@google-cloud/functions-framework';
import { errorMessage } from '../core/failures.ts';
import { handleDeadLetter, type DeadLetterDeps } from '../events/dead-letters.ts';
import { messageBytes } from '../events/event-message.ts';
import type { MessagePublishedData } from './dispatch-handler.ts';

/**
 * The CloudEvent entry of deadLetterNotify: the dead-letter topic's push subscription (no dead-letter
 * policy of its own) to the path /projects/P/topics/T, which the functions framework turns into a
 * messagePublished CloudEvent. It always answers 2xx: a dead letter is announced once or logged, never
 * redelivered in a loop; the original stays on the topic's inspection subscription.
 */
export function createDeadLetterHandler(deps: () => DeadLetterDeps) {
  return async (cloudEvent: CloudEvent<MessagePublishedData>): Promise<void> => {
    const d = deps();
    const message = cloudEvent.data?.message;
    const messageId = message?.messageId ?? message?.message_id ?? cloudEvent.id;
    try {
      await handleDeadLetter(d, {
        messageId,
        data: message?.data ? messageBytes(message.data) : undefined,
        attributes: message?.attributes ?? {},
      });
    } catch (error) {
      d.logger.log('ERROR', `dead letter ${messageId} not announced (errorCode internal_error): ${errorMessage(error)}`, { component: 'dead-letters', messageId, errorCode: 'internal_error', stack: (error as Error)?.stack ?? null });
    }
  };
}
