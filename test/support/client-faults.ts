/**
 * Faults injected at the edge of the bundle's Firestore client (its DocumentReference, as the adapters
 * under test use it): what another writer or the client's own retries do between two steps.
 */
import { DocumentReference, GrpcStatus } from './kit.ts';

type Method = 'create' | 'update';
type Call = (...args: unknown[]) => Promise<unknown>;

/** Runs `body` with DocumentReference.prototype[method] replaced by `wrap` around the original. */
export async function withClientMethod(method: Method, wrap: (original: Call, ref: DocumentReference, args: unknown[]) => Promise<unknown>, body: () => Promise<void>): Promise<void> {
  const prototype = DocumentReference.prototype as unknown as Record<Method, Call>;
  const original = prototype[method];
  prototype[method] = function (this: DocumentReference, ...args: unknown[]) {
    return wrap(original, this, args);
  };
  try {
    await body();
  } finally {
    prototype[method] = original;
  }
}

/**
 * Runs `body` while the first `create` or `update` is applied and then fails as the client's retry of a
 * commit whose answer was lost fails: against its own first try (ALREADY_EXISTS for a create,
 * FAILED_PRECONDITION for a conditional update). Answers whether it was hit.
 */
export async function withLostAnswer(method: Method, body: () => Promise<void>): Promise<boolean> {
  const [code, name] = method === 'create' ? [GrpcStatus.ALREADY_EXISTS, 'ALREADY_EXISTS'] : [GrpcStatus.FAILED_PRECONDITION, 'FAILED_PRECONDITION'];
  let injected = false;
  await withClientMethod(method, async (original, ref, args) => {
    const written = await original.apply(ref, args);
    if (injected) return written;
    injected = true;
    throw Object.assign(new Error(`${code} ${name}: the retried commit met the first one`), { code });
  }, body);
  return injected;
}

/** Runs `body` with `meanwhile` (another writer's change) done once, just before its first update is applied. Answers whether it ran. */
export async function beforeFirstUpdate(meanwhile: () => Promise<unknown>, body: () => Promise<void>): Promise<boolean> {
  let done = false;
  await withClientMethod('update', async (original, ref, args) => {
    if (!done) {
      done = true;
      await meanwhile();
    }
    return original.apply(ref, args);
  }, body);
  return done;
}
