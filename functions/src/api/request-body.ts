/**
 * The body checks every request passes before a schema sees it: a bounded size, a JSON media type,
 * JSON that parses, a bounded depth, and no prototype keys. The walk is iterative, so a body of 100 000
 * nested arrays is refused without deep recursion (JSON.parse itself does not recurse).
 */
import { ApiProblem, fieldProblem } from './problem.ts';

export const MAX_BODY_BYTES = 256 * 1024;
/** Deeper than any webhook document or event data needs; Firestore itself stops at 20 levels of maps. */
export const MAX_BODY_DEPTH = 20;
const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const JSON_MEDIA_TYPE = /^application\/(?:[\w.-]+\+)?json$/i;

export const mediaTypeOf = (contentType: string | undefined): string => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** The refusal of a body, or undefined when it passes (an empty body passes: the schema decides). */
export function checkBody(raw: Buffer | undefined, contentType: string | undefined): ApiProblem | undefined {
  if (!raw || raw.length === 0) return undefined;
  if (raw.length > MAX_BODY_BYTES) return new ApiProblem('payload_too_large', `the body is ${raw.length} bytes; the limit is ${MAX_BODY_BYTES}`);
  if (!JSON_MEDIA_TYPE.test(mediaTypeOf(contentType))) return new ApiProblem('unsupported_media_type', `send JSON (Content-Type: application/json), not ${mediaTypeOf(contentType) || 'no Content-Type'}`);
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw));
  } catch (error) {
    return new ApiProblem('invalid_request', `the body is not UTF-8 JSON: ${(error as Error).message}`);
  }
  const stack: Array<{ value: unknown; path: Array<string | number> }> = [{ value, path: [] }];
  while (stack.length > 0) {
    const { value: node, path } = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (path.length >= MAX_BODY_DEPTH) return new ApiProblem('validation_failed', `the body nests deeper than ${MAX_BODY_DEPTH} levels`, { errors: [fieldProblem(path, `nests deeper than ${MAX_BODY_DEPTH} levels`)] });
    if (Array.isArray(node)) {
      node.forEach((item, index) => stack.push({ value: item, path: [...path, index] }));
      continue;
    }
    for (const key of Object.keys(node)) {
      if (PROTOTYPE_KEYS.has(key)) return new ApiProblem('validation_failed', `the key ${key} is not allowed anywhere in a body`, { errors: [fieldProblem([...path, key], 'is a prototype key and not allowed')] });
      stack.push({ value: (node as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  return undefined;
}
