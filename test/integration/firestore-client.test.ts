import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { createFirestore } from '../support/kit.ts';

// The functions' Firestore client (functions/src/firestore/firestore-client.ts), from the test kit's
// bundle: the client's OpenTelemetry spans are off unless FIRESTORE_ENABLE_TRACING turns them on.
// Which trace helper the client chose is private; its class name is the only outward sign short of
// registering an OpenTelemetry provider, and a client upgrade that renames it fails here by name.

const saved = process.env.FIRESTORE_ENABLE_TRACING;
afterEach(() => {
  if (saved === undefined) delete process.env.FIRESTORE_ENABLE_TRACING;
  else process.env.FIRESTORE_ENABLE_TRACING = saved;
});

const traceHelper = (db: object) => (db as { _traceUtil?: { constructor: { name: string } } })._traceUtil?.constructor.name ?? 'none';

/** A client made with FIRESTORE_ENABLE_TRACING set to `value` (undefined: unset), checked, then closed. */
async function withClient(value: string | undefined, check: (db: ReturnType<typeof createFirestore>) => Promise<void> | void): Promise<void> {
  if (value === undefined) delete process.env.FIRESTORE_ENABLE_TRACING;
  else process.env.FIRESTORE_ENABLE_TRACING = value;
  const db = createFirestore('firestore-client-test');
  try {
    await check(db);
  } finally {
    await db.terminate();
  }
}

describe('the functions\' Firestore client', () => {
  it('has its OpenTelemetry spans off by default, and still reads and writes', () =>
    withClient(undefined, async (db) => {
      assert.equal(process.env.FIRESTORE_ENABLE_TRACING, 'off');
      assert.match(traceHelper(db), /^DisabledTraceUtil\d*$/);
      const doc = db.collection('probes').doc();
      await doc.create({ n: 1 });
      assert.equal((await doc.get()).get('n'), 1);
    }));

  it('takes an empty FIRESTORE_ENABLE_TRACING as unset (the client would leave its spans on)', () =>
    withClient('', (db) => {
      assert.equal(process.env.FIRESTORE_ENABLE_TRACING, 'off');
      assert.match(traceHelper(db), /^DisabledTraceUtil\d*$/);
    }));

  it('leaves an operator\'s FIRESTORE_ENABLE_TRACING=on alone', () =>
    withClient('on', (db) => {
      assert.equal(process.env.FIRESTORE_ENABLE_TRACING, 'on');
      assert.match(traceHelper(db), /^EnabledTraceUtil\d*$/);
    }));
});
