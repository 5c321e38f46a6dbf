/**
 * Idempotency-Key on the POSTs that create something (a webhook, a test delivery, a replay, a recover
 * job), as Stripe and Svix have it: a client that lost the answer sends the same request again with
 * the same key and gets the first answer (`Idempotent-Replayed: true`) instead of a second webhook or
 * delivery. Only successful answers are kept (24 hours); a refused or failed request frees its key, so
 * the corrected request may reuse it. The same key with another request is refused (422), and one
 * sent while its first request runs is a 409 to retry.
 */
import { createHash } from 'node:crypto';
import type { Clock } from '../core/ports.ts';
import { errorMessage } from '../core/failures.ts';
import type { Logger } from '../log/logger.ts';
import type { IdempotencyRecord, IdempotencyStore, KeptAnswer } from './ports.ts';
import { ApiProblem, fieldProblem } from './problem.ts';
import type { ApiResult } from './webhook-handlers.ts';

export const IDEMPOTENCY_HEADER = 'Idempotency-Key';
/** Printable ASCII without spaces (a UUID, a ULID, the client's own request id), 1 to 255 characters. */
export const IDEMPOTENCY_KEY = /^[\x21-\x7E]{1,255}$/;
/** How long an answer is kept for its key (the store's expiry, then TTL deletion). */
export const IDEMPOTENCY_KEEP_MS = 24 * 3600_000;
/**
 * A key whose request has not answered after this long belongs to an instance that died (the api
 * function's timeout is 60 s): a retry then takes it over and runs the request.
 */
export const IDEMPOTENCY_STALE_MS = 90_000;
/** Headers of an answer kept with it: the rest (request id, CORS) belongs to each response. */
const KEPT_HEADERS = ['Location', 'ETag'];

export interface IdempotentRequest {
  accountId: string;
  key: string;
  method: string;
  path: string;
  body: Uint8Array;
}

/** The store's document id for a key: any printable key, of fixed length and no `/`. */
const keyIdOf = (key: string) => createHash('sha256').update(key).digest('hex');
const requestHashOf = (request: IdempotentRequest) => createHash('sha256').update(`${request.method} ${request.path}\n`).update(request.body).digest('hex');

/** The key as sent, or a 400 naming the header. */
export function checkedKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(value)) {
    const reason = 'must be 1 to 255 printable ASCII characters without spaces (a UUID, say)';
    throw new ApiProblem('invalid_request', `${IDEMPOTENCY_HEADER} ${reason}`, { errors: [{ ...fieldProblem([IDEMPOTENCY_HEADER], reason), pointer: '' }] });
  }
  return value;
}

const replayOf = (answer: KeptAnswer): ApiResult => ({ status: answer.status, body: JSON.parse(answer.body) as unknown, headers: { ...answer.headers, 'Idempotent-Replayed': 'true' } });

/** Runs `run` once per key: the first answer again for the same request, a refusal for another. */
export async function idempotent(deps: { idempotency: IdempotencyStore; clock: Clock }, logger: Logger, request: IdempotentRequest, run: () => Promise<ApiResult>): Promise<ApiResult> {
  const keyId = keyIdOf(request.key);
  const now = deps.clock.now();
  const record: IdempotencyRecord = { requestHash: requestHashOf(request), startedAt: now, answer: null };
  const taken = await take(deps.idempotency, logger, request.accountId, keyId, record);
  if ('replay' in taken) return taken.replay;
  const { owner } = taken;
  let result: ApiResult;
  try {
    result = await run();
  } catch (error) {
    await free(deps.idempotency, request.accountId, keyId, owner, logger);
    throw error;
  }
  if (result.status < 200 || result.status >= 300) {
    await free(deps.idempotency, request.accountId, keyId, owner, logger);
    return result;
  }
  const headers = Object.fromEntries(KEPT_HEADERS.flatMap((name) => (result.headers?.[name] === undefined ? [] : [[name, result.headers[name]!]])));
  try {
    await deps.idempotency.finish(request.accountId, keyId, owner, { status: result.status, body: JSON.stringify(result.body ?? null), headers });
  } catch (error) {
    // The request succeeded: its answer is sent. A retry with the key meets it running, then stale, and
    // runs again: said here, where a person will find it.
    logger.log('ERROR', `the answer could not be kept for its ${IDEMPOTENCY_HEADER}: a retry with the key after ${IDEMPOTENCY_STALE_MS / 1000} s runs the request again: ${errorMessage(error)}`, { errorCode: 'idempotency_not_kept' });
  }
  return result;
}

/**
 * Takes the key for `record` (its owner token), or answers what holds it: the first answer again for
 * the same request; a refusal for another request, or while the first one runs. A record past its day,
 * or whose request is past answering, is taken over.
 */
async function take(store: IdempotencyStore, logger: Logger, accountId: string, keyId: string, record: IdempotencyRecord): Promise<{ owner: string } | { replay: ApiResult }> {
  const expiresAt = new Date(record.startedAt.getTime() + IDEMPOTENCY_KEEP_MS);
  const begun = await store.begin(accountId, keyId, record, expiresAt);
  if (begun.taken) return { owner: begun.owner };
  const { existing } = begun;
  const age = record.startedAt.getTime() - existing.startedAt.getTime();
  // Kept a day: an older record (its deletion by the TTL policy can lag a day more) no longer counts.
  if (age >= IDEMPOTENCY_KEEP_MS) {
    const owner = await store.takeOver(accountId, keyId, existing.startedAt, record, expiresAt);
    if (owner !== undefined) return { owner };
  }
  if (existing.requestHash !== record.requestHash) {
    throw new ApiProblem('idempotency_key_reused', `this ${IDEMPOTENCY_HEADER} was used for another request (another route or body) in the last 24 hours: send a new key for a new request`, { errors: [{ ...fieldProblem([IDEMPOTENCY_HEADER], 'was used for another request'), pointer: '' }] });
  }
  if (existing.answer) {
    logger.log('INFO', `${IDEMPOTENCY_HEADER} seen before: the first answer is sent again`, { idempotentReplay: true });
    return { replay: replayOf(existing.answer) };
  }
  const owner = age >= IDEMPOTENCY_STALE_MS ? await store.takeOver(accountId, keyId, existing.startedAt, record, expiresAt) : undefined;
  if (owner === undefined) {
    throw new ApiProblem('idempotency_key_in_use', `a request with this ${IDEMPOTENCY_HEADER} is still running: send it again in a moment to get its answer`, { headers: { 'Retry-After': '1' } });
  }
  logger.log('WARNING', `${IDEMPOTENCY_HEADER} taken over: its first request never answered (started ${existing.startedAt.toISOString()})`);
  return { owner };
}

async function free(store: IdempotencyStore, accountId: string, keyId: string, owner: string, logger: Logger): Promise<void> {
  try {
    await store.release(accountId, keyId, owner);
  } catch (error) {
    // Only delays a retry with the key: it is taken over once stale.
    logger.log('WARNING', `could not free an ${IDEMPOTENCY_HEADER} after its request failed: ${errorMessage(error)}`);
  }
}
