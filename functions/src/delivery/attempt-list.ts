import type { AttemptRecord } from './delivery-record.ts';

/**
 * Firestore refuses a document over 1 MiB, and a delivery replayed or taken over many times with large
 * bodies would otherwise grow past it and become unwritable. The record keeps the first attempt (what
 * was sent originally) and the latest ones, within a byte budget that leaves room for the event
 * (MAX_EVENT_BYTES, 256 KiB) and the rest of the record.
 */
export const MAX_KEPT_ATTEMPTS = 11;
export const ATTEMPTS_BUDGET_BYTES = 512 * 1024;

/** Estimated stored size: UTF-8 bytes of the JSON, close to Firestore's own count for strings. */
const sizeOf = (attempt: AttemptRecord): number => Buffer.byteLength(JSON.stringify(attempt));

/**
 * The attempts to store and how many were left out in all (`dropped` counts earlier drops too). The
 * first and the last are always kept; the ones between go oldest first.
 */
export function boundAttempts(attempts: readonly AttemptRecord[], dropped: number): { attempts: AttemptRecord[]; attemptsDropped: number } {
  const kept = [...attempts];
  // The first and the last are always kept: with two or fewer nothing can go, so nothing is measured
  // (a first attempt's JSON was serialised here for nothing: 1–2 % of a delivery's CPU).
  if (kept.length <= 2) return { attempts: kept, attemptsDropped: dropped };
  let attemptsDropped = dropped;
  const sizes = kept.map(sizeOf);
  let total = sizes.reduce((sum, size) => sum + size, 0);
  while (kept.length > 2 && (kept.length > MAX_KEPT_ATTEMPTS || total > ATTEMPTS_BUDGET_BYTES)) {
    kept.splice(1, 1);
    total -= sizes.splice(1, 1)[0]!;
    attemptsDropped += 1;
  }
  return { attempts: kept, attemptsDropped };
}

/** Attempts made so far, kept or not: the next attempt's number is this plus one. */
export const attemptsMade = (record: { attempts: readonly unknown[]; attemptsDropped?: number | undefined }): number =>
  record.attempts.length + (record.attemptsDropped ?? 0);

/** The same attempts with bodies and headers left out: what is written when a full record could not be. */
export function compactAttempts(attempts: readonly AttemptRecord[]): AttemptRecord[] {
  const strip = <T extends { body: string | null; bodyBytes: number; bodyTruncated: boolean; headers: Record<string, string> }>(part: T): T => ({ ...part, body: null, bodyTruncated: part.bodyBytes > 0, headers: {} });
  return attempts.map((attempt) => ({
    ...attempt,
    request: attempt.request ? strip(attempt.request) : null,
    response: attempt.response ? strip(attempt.response) : null,
  }));
}
