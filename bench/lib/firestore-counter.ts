/**
 * Counts Firestore operations at the client boundary of one Firestore instance: document reads and
 * writes through the public API (DocumentReference, Query, Transaction) and, underneath, the RPCs the
 * client sends (commit, runQuery, batchGetDocuments, beginTransaction, rollback). The emulator keeps no
 * counter of its own, so this is how the bench knows what an event costs. Bench-only instrumentation.
 */
import { DocumentReference, Query, Transaction, type Firestore } from '@google-cloud/firestore';

export interface OpCounts {
  /** Query.get calls, and the documents they returned (Firestore bills each, at least one per query). */
  queries: number;
  queryDocuments: number;
  /** Queries that returned nothing: still one billed read each. */
  emptyQueries: number;
  /** DocumentReference.get and Transaction.get: one document read each. */
  documentGets: number;
  /** Writes by kind; a failed create (the document exists) is counted under createFailed. */
  writes: { create: number; createFailed: number; update: number; set: number; delete: number };
  transactions: number;
  /** RPCs sent by the client, by method; commit also counts its writes. */
  rpcs: Record<string, number>;
  committedWrites: number;
}

export interface Counter {
  counts(): OpCounts;
  reset(): void;
}

const empty = (): OpCounts => ({
  queries: 0,
  queryDocuments: 0,
  emptyQueries: 0,
  documentGets: 0,
  writes: { create: 0, createFailed: 0, update: 0, set: 0, delete: 0 },
  transactions: 0,
  rpcs: {},
  committedWrites: 0,
});

/** Billed reads: every document read, and at least one per query. */
export const billedReads = (c: OpCounts): number => c.documentGets + c.queryDocuments + c.emptyQueries;
/** Successful writes. */
export const totalWrites = (c: OpCounts): number => c.writes.create + c.writes.update + c.writes.set + c.writes.delete;

type AnyFn = (...args: unknown[]) => unknown;

/** The client's classes whose methods are counted: the bundle's own copy when `db` is one of its instances. */
export interface FirestoreClasses {
  DocumentReference: typeof DocumentReference;
  Query: typeof Query;
  Transaction: typeof Transaction;
}

export function countOperations(db: Firestore, classes: FirestoreClasses = { DocumentReference, Query, Transaction }): Counter {
  let counts = empty();
  const mine = (self: unknown) => {
    const target = self as { firestore?: unknown; _firestore?: unknown };
    return (target._firestore ?? target.firestore) === db;
  };
  const wrap = <T extends object>(proto: T, name: string, around: (self: unknown, args: unknown[], call: () => unknown) => unknown) => {
    const original = (proto as Record<string, AnyFn>)[name]!;
    (proto as Record<string, AnyFn>)[name] = function (this: unknown, ...args: unknown[]) {
      const call = () => original.apply(this, args);
      return mine(this) ? around(this, args, call) : call();
    };
  };
  for (const kind of ['create', 'update', 'set', 'delete'] as const) {
    wrap(classes.DocumentReference.prototype, kind, async (_self, _args, call) => {
      try {
        const result = await call();
        counts.writes[kind]++;
        return result;
      } catch (error) {
        if (kind === 'create') counts.writes.createFailed++;
        throw error;
      }
    });
    // Inside a transaction the write is buffered and sent with the commit.
    wrap(classes.Transaction.prototype, kind, (_self, _args, call) => {
      counts.writes[kind]++;
      return call();
    });
  }
  wrap(classes.DocumentReference.prototype, 'get', (_self, _args, call) => {
    counts.documentGets++;
    return call();
  });
  wrap(classes.Transaction.prototype, 'get', (_self, _args, call) => {
    counts.documentGets++;
    return call();
  });
  wrap(classes.Query.prototype, 'get', async (_self, _args, call) => {
    const snapshot = (await call()) as { size: number };
    counts.queries++;
    counts.queryDocuments += snapshot.size;
    if (snapshot.size === 0) counts.emptyQueries++;
    return snapshot;
  });
  const instance = db as unknown as Record<string, AnyFn>;
  const runTransaction = instance.runTransaction!.bind(db);
  instance.runTransaction = (...args: unknown[]) => {
    counts.transactions++;
    return runTransaction(...args);
  };
  const request = instance.request!.bind(db);
  instance.request = (method: unknown, body: unknown, ...rest: unknown[]) => {
    const name = String(method);
    counts.rpcs[name] = (counts.rpcs[name] ?? 0) + 1;
    if (name === 'commit') counts.committedWrites += ((body as { writes?: unknown[] }).writes ?? []).length;
    return request(method, body, ...rest);
  };
  const requestStream = instance.requestStream!.bind(db);
  instance.requestStream = (method: unknown, ...rest: unknown[]) => {
    const name = String(method);
    counts.rpcs[name] = (counts.rpcs[name] ?? 0) + 1;
    return requestStream(method, ...rest);
  };
  return {
    counts: () => structuredClone(counts),
    reset: () => {
      counts = empty();
    },
  };
}
