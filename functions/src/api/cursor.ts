import { ApiProblem, fieldProblem } from './problem.ts';

/** Cursors are opaque to clients: base64url of a small JSON value the API checks when it comes back. */
export const encodeCursor = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

export function decodeCursor<T>(cursor: string, isValid: (value: unknown) => value is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!value || typeof value !== 'object' || !isValid(value)) {
    throw new ApiProblem('invalid_request', 'the cursor is not one this API gave (pass nextCursor as it came)', { errors: [fieldProblem(['cursor'], 'is not a cursor of this list')] });
  }
  return value;
}
