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

export const isAlreadyExists = (error: unknown): boolean => (error as { code?: number }).code === GrpcStatus.ALREADY_EXISTS;
