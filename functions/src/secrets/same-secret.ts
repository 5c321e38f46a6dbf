import { timingSafeEqual } from 'node:crypto';

/** Whether two secret values are equal, compared in constant time (the length aside). */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}
