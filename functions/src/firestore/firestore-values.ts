import { GrpcStatus } from '../core/failures.ts';
import { Timestamp } from '@google-cloud/firestore';

/** Turns Firestore Timestamps back into Dates, deeply, so the core only ever sees Dates. */
export function fromFirestore<T>(value: unknown): T {
  if (value instanceof Timestamp) return value.toDate() as T;
  if (Array.isArray(value)) return value.map((item) => fromFirestore(item)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, fromFirestore(item)])) as T;
  }
  return value as T;
}

export const isFailedPrecondition = (error: unknown): boolean => (error as { code?: number }).code === GrpcStatus.FAILED_PRECONDITION;

export const isAlreadyExists = (error: unknown): boolean => (error as { code?: number }).code === GrpcStatus.ALREADY_EXISTS;

/**
 * A document's update time as an exact string (`seconds.nanoseconds`): a Date would lose Firestore's
 * microseconds, and preconditions compare exactly. The management API's ETag is this version.
 */
export const versionOf = (time: Timestamp): string => `${time.seconds}.${String(time.nanoseconds).padStart(9, '0')}`;

/** The Timestamp of a version (throws RangeError on text that is not one). */
export function timestampOf(version: string): Timestamp {
  const match = /^(\d{1,12})\.(\d{9})$/.exec(version);
  if (!match) throw new RangeError(`not a document version: ${version.slice(0, 40)}`);
  return new Timestamp(Number(match[1]), Number(match[2]));
}
