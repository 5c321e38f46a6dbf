import { DocumentReference, GrpcStatus } from './kit.ts';

/**
 * Runs `body` while the first `create` or `update` of the bundle's Firestore client is applied and then
 * fails as the client's retry of a commit whose answer was lost fails: against its own first try
 * (ALREADY_EXISTS for a create, FAILED_PRECONDITION for a conditional update). Answers whether it was hit.
 */
export async function withLostAnswer(method: 'create' | 'update', body: () => Promise<void>): Promise<boolean> {
  const original = DocumentReference.prototype[method] as (...args: unknown[]) => Promise<unknown>;
  const [code, name] = method === 'create' ? [GrpcStatus.ALREADY_EXISTS, 'ALREADY_EXISTS'] : [GrpcStatus.FAILED_PRECONDITION, 'FAILED_PRECONDITION'];
  let injected = false;
  (DocumentReference.prototype as unknown as Record<string, unknown>)[method] = async function (this: DocumentReference, ...args: unknown[]) {
    const written = await original.apply(this, args);
    if (injected) return written;
    injected = true;
    throw Object.assign(new Error(`${code} ${name}: the retried commit met the first one`), { code });
  };
  try {
    await body();
  } finally {
    (DocumentReference.prototype as unknown as Record<string, unknown>)[method] = original;
  }
  return injected;
}
