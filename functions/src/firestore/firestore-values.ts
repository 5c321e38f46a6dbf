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

/** gRPC status codes Firestore reports. */
export const ALREADY_EXISTS = 6;
export const isAlreadyExists = (error: unknown): boolean => (error as { code?: number }).code === ALREADY_EXISTS;
