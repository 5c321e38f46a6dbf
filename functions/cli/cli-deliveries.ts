/** Delivery records as the CLI prints them, and waiting for them to finish. */
import type { DeliveryKey, StoredDelivery } from '../src/delivery/ports.ts';
import { deliveryPath } from '../src/firestore/firestore-layout.ts';
import { FirestoreDeliveryLog } from '../src/firestore/firestore-delivery-log.ts';
import type { CliEnvironment } from './cli-environment.ts';
import { dim, excerpt, green, red, shortTime, table, yellow } from './cli-output.ts';

export const FINAL_STATUSES = ['succeeded', 'failed', 'invalid'] as const;
export const isFinal = (record: StoredDelivery) => (FINAL_STATUSES as readonly string[]).includes(record.status);

export function colourStatus(status: string): string {
  if (status === 'succeeded') return green(status);
  if (status === 'failed' || status === 'invalid') return red(status);
  return yellow(status);
}

/** What the last attempt got (or why nothing was sent). */
export function lastResult(record: StoredDelivery): string {
  const last = record.attempts[record.attempts.length - 1];
  if (record.status === 'invalid' || !last) return record.lastError ?? '';
  return last.summary;
}

export function deliveriesTable(records: readonly StoredDelivery[]): string {
  return table(
    ['CREATED', 'EVENT', 'TYPE', 'STATUS', 'ATTEMPTS', 'NEXT ATTEMPT', 'LAST RESULT'],
    records.map((record) => [
      shortTime(record.createdAt),
      record.eventId,
      record.eventType,
      colourStatus(record.status),
      `${record.attempts.length + (record.attemptsDropped ?? 0)}${record.replays?.length ? ` (${record.replays.length} replay${record.replays.length > 1 ? 's' : ''})` : ''}`,
      record.status === 'retrying' ? shortTime(record.nextAttemptAt) : '',
      lastResult(record).replace(/\s+/g, ' '),
    ]),
  );
}

/** The outcome of one delivery: status, then each attempt with its target, result and response. */
export function describeDelivery(record: StoredDelivery): string {
  const lines = [`delivery ${deliveryPath(record.accountId, record.webhookId, record.eventId)}: ${colourStatus(record.status)}`];
  if (record.status !== 'succeeded' && record.lastError) lines.push(`  last error: ${record.lastError}${record.errorCode ? ` (${record.errorCode})` : ''}`);
  if (record.attemptsDropped) lines.push(dim(`  ${record.attemptsDropped} earlier attempt(s) not kept (the record keeps the first and the latest)`));
  if (record.status === 'retrying' && record.nextAttemptAt) lines.push(`  next attempt at ${shortTime(record.nextAttemptAt)}`);
  for (const replay of record.replays ?? []) lines.push(dim(`  replayed at ${shortTime(replay.at)} (was ${replay.previousStatus})`));
  for (const attempt of record.attempts) {
    lines.push(`  #${attempt.number} ${attempt.target} ${attempt.summary} ${dim(`${attempt.durationMs} ms${attempt.request ? `, ${attempt.request.method} ${attempt.request.url}` : ''}`)}`);
    if (attempt.error) lines.push(`     error: ${attempt.error.code}: ${attempt.error.message}`);
    if (attempt.response?.body) lines.push(`     response: ${excerpt(attempt.response.body).split('\n').join('\n               ')}${attempt.response.bodyTruncated ? dim(` (${attempt.response.bodyBytes} bytes, cut)`) : ''}`);
  }
  return lines.join('\n');
}

/**
 * Polls the records until `done` holds for each (or the time is up); returns the last state seen of
 * each (undefined: no record yet).
 */
export async function waitForDeliveries(
  environment: CliEnvironment,
  keys: readonly DeliveryKey[],
  done: (record: StoredDelivery) => boolean,
  timeoutMs: number,
): Promise<{ records: Array<StoredDelivery | undefined>; timedOut: boolean }> {
  const log = new FirestoreDeliveryLog(await environment.firestore());
  const deadline = Date.now() + timeoutMs;
  const records: Array<StoredDelivery | undefined> = keys.map(() => undefined);
  for (;;) {
    await environment.call('read the delivery log', async () => {
      await Promise.all(keys.map(async (key, index) => {
        if (!records[index] || !done(records[index]!)) records[index] = await log.get(key);
      }));
    });
    if (records.every((record) => record && done(record))) return { records, timedOut: false };
    if (Date.now() >= deadline) return { records, timedOut: true };
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
