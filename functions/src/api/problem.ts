/**
 * Every error of the management API is an RFC 9457 problem document (application/problem+json) with a
 * stable machine `code`, a sentence for a person, and for a refused body or parameter the fields at
 * fault (`field` as the console shows it: `events[0]`, `headers.X`; `pointer` as a JSON pointer).
 */
import type { FieldIssue } from '../webhooks/describe-issues.ts';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const ProblemCode = [
  'unauthenticated',
  'insufficient_scope',
  'not_found',
  'invalid_request',
  'validation_failed',
  'unsupported_media_type',
  'payload_too_large',
  'conflict',
  'precondition_failed',
  'precondition_required',
  'idempotency_key_reused',
  'idempotency_key_in_use',
  'not_replayable',
  'webhook_disabled',
  'internal_error',
  'unavailable',
] as const;
export type ProblemCode = (typeof ProblemCode)[number];

const TITLES: Record<ProblemCode, { status: number; title: string }> = {
  unauthenticated: { status: 401, title: 'Authentication required' },
  insufficient_scope: { status: 403, title: 'The credential lacks the scope this needs' },
  not_found: { status: 404, title: 'Not found' },
  invalid_request: { status: 400, title: 'Invalid request' },
  validation_failed: { status: 422, title: 'Validation failed' },
  unsupported_media_type: { status: 415, title: 'Unsupported media type' },
  payload_too_large: { status: 413, title: 'Body too large' },
  conflict: { status: 409, title: 'Conflict' },
  precondition_failed: { status: 412, title: 'The resource changed since it was read' },
  precondition_required: { status: 428, title: 'If-Match required' },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was used for another request' },
  idempotency_key_in_use: { status: 409, title: 'A request with this Idempotency-Key is in progress' },
  not_replayable: { status: 409, title: 'Not replayable' },
  webhook_disabled: { status: 409, title: 'The webhook is disabled' },
  internal_error: { status: 500, title: 'Internal error' },
  unavailable: { status: 503, title: 'Temporarily unavailable' },
};

export interface ProblemField extends FieldIssue {
  /** RFC 6901 pointer into the request body (or `#/<param>` for a parameter). */
  pointer: string;
}

export interface Problem {
  type: string;
  title: string;
  status: number;
  code: ProblemCode;
  detail: string;
  errors?: ProblemField[];
  requestId?: string;
  [extension: string]: unknown;
}

/** An expected refusal, thrown by handlers and turned into its problem document in one place. */
export class ApiProblem extends Error {
  override name = 'ApiProblem';
  readonly code: ProblemCode;
  readonly status: number;
  readonly errors: ProblemField[] | undefined;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(code: ProblemCode, detail: string, options: { errors?: ProblemField[]; extensions?: Record<string, unknown>; headers?: Record<string, string> } = {}) {
    super(detail);
    this.code = code;
    this.status = TITLES[code].status;
    this.errors = options.errors;
    this.extensions = options.extensions ?? {};
    this.headers = options.headers ?? {};
  }

  toProblem(requestId: string): Problem {
    return {
      type: `urn:hookshape:problem:${this.code}`,
      title: TITLES[this.code].title,
      status: this.status,
      code: this.code,
      detail: this.message,
      ...(this.errors ? { errors: this.errors } : {}),
      ...this.extensions,
      requestId,
    };
  }
}

/** `events[0].x` → `/events/0/x`; `headers.X-Y` → `/headers/X-Y` (only the first dot of a map key matters). */
export function pointerOf(path: ReadonlyArray<string | number>): string {
  return path.map((part) => `/${String(part).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

export function fieldOf(path: ReadonlyArray<string | number>): string {
  return path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? part : `.${part}`)).join('');
}

export const fieldProblem = (path: ReadonlyArray<string | number>, message: string): ProblemField => ({ field: fieldOf(path), pointer: pointerOf(path), message });

/** The one 404 of every resource the caller may not see: the same body whether it exists or not. */
export const notFound = (): ApiProblem => new ApiProblem('not_found', 'no such resource');
