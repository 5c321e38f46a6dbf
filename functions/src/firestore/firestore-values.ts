import { GrpcStatus } from '../core/failures.ts';
import { Timestamp, type DocumentReference } from '@google-cloud/firestore';

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
 * Creates the document unless it exists (the idempotency check of claims and first results), and
 * reads the one that does. `data[idField]` is unique to this call: a create whose first try was
 * applied but whose answer was lost, retried by the client, fails with ALREADY_EXISTS against itself —
 * the id read back says it was ours.
 */
export async function createOnce<T>(ref: DocumentReference, data: Record<string, unknown>, idField: string): Promise<{ created: true } | { created: false; existing: T }> {
  try {
    await ref.create(data);
    return { created: true };
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
  const snapshot = await ref.get();
  if (!snapshot.exists) throw new Error(`${ref.path} vanished between create and read`);
  if (snapshot.get(idField) === data[idField]) return { created: true };
  return { created: false, existing: fromFirestore<T>(snapshot.data()) };
}

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
