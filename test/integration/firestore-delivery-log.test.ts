import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { eventOf } from '../support/harness.ts';
import { classifyFailure, deliveryPath, FirestoreDeliveryLog, GrpcStatus, pendingDelivery, type StaleCursors, type StoredDelivery } from '../support/kit.ts';
import { onEmulatorProject } from '../support/emulator-project.ts';
import { beforeFirstUpdate, withClientMethod, withLostAnswer } from '../support/client-faults.ts';

// The delivery log adapter against the real Firestore emulator: `modify` is the state machine's only
// read-modify-write (claims, takeovers, owner commits). It is an optimistic write on the version read,
// not a server transaction, so a writer killed half-way holds no lock; these cases show it still loses
// no concurrent change. The adapter and the client are the bundle's (test/support/kit.ts): the faults are
// injected into the copy of the Firestore client the adapter uses.

describe('FirestoreDeliveryLog.modify on the emulator', () => {
  const project = onEmulatorProject('dlog', (db) => new FirestoreDeliveryLog(db));

  const plant = async (): Promise<StoredDelivery> => {
    const record = pendingDelivery(eventOf('call.created', 'acc_dlog'), 'w1', 'w1', new Date(), 7);
    assert.deepEqual(await project.adapter.claim(record), { created: true });
    return record;
  };

  it('concurrent read-modify-writes of one record lose no update', async () => {
    const record = await plant();
    const writers = 12;
    let runs = 0;
    const results = await Promise.all(Array.from({ length: writers }, (_, index) => project.adapter.modify(record, (current) => {
      runs += 1;
      return { write: { repairs: (current?.repairs ?? 0) + 1 }, result: index };
    })));
    assert.deepEqual(results.sort((a, b) => a - b), Array.from({ length: writers }, (_, index) => index));
    assert.equal((await project.adapter.get(record))?.repairs, writers);
    // The writers did meet: some change ran again on a newer version (else the case proves nothing).
    assert.ok(runs > writers, `${runs} runs for ${writers} writers`);
  });

  it('a change that writes nothing leaves the document untouched', async () => {
    const record = await plant();
    const ref = project.db.doc(deliveryPath(record.accountId, record.webhookId, record.eventId));
    const before = (await ref.get()).updateTime!;
    assert.equal(await project.adapter.modify(record, (current) => ({ result: current?.status })), 'pending');
    assert.ok((await ref.get()).updateTime!.isEqual(before));
  });

  it('a missing record is handed to the change as undefined and never created', async () => {
    const key = { accountId: 'acc_dlog', webhookId: 'w1', eventId: `evt_missing_${randomBytes(3).toString('hex')}` };
    const seen = await project.adapter.modify(key, (current) => ({ write: { repairs: 1 }, result: current }));
    assert.equal(seen, undefined);
    assert.equal((await project.db.doc(deliveryPath(key.accountId, key.webhookId, key.eventId)).get()).exists, false);
  });


  it('a write applied whose answer was lost (the client retrying it then fails its precondition) keeps its result, and is not made twice', async () => {
    const record = await plant();
    const injected = await withLostAnswer('update', async () => {
      let runs = 0;
      const result = await project.adapter.modify(record, (current) => {
        runs += 1;
        return { write: { repairs: (current?.repairs ?? 0) + 1 }, result: `run ${runs}` };
      });
      assert.equal(result, 'run 1');
      assert.equal(runs, 1);
    });
    assert.ok(injected);
    assert.equal((await project.adapter.get(record))?.repairs, 1);
  });

  it("a first write applied whose answer was lost (the client's retried create meets it) is recognised as this run's, not another run's record", async () => {
    const record = pendingDelivery(eventOf('call.created', 'acc_dlog'), 'w1', 'w1', new Date(), 7);
    assert.ok(await withLostAnswer('create', async () => assert.deepEqual(await project.adapter.claim(record), { created: true })));
    // Another run's create of the same record still finds it.
    const other = await project.adapter.claim({ ...record, webhookName: 'another run' });
    assert.equal(other.created, false);
  });

  it('a record deleted between the read and the write: the change is run again on nothing, and nothing is recreated', async () => {
    const record = await plant();
    const ref = project.db.doc(deliveryPath(record.accountId, record.webhookId, record.eventId));
    const deleted = await beforeFirstUpdate(() => ref.delete(), async () => {
      const seen: Array<string | undefined> = [];
      await project.adapter.modify(record, (current) => {
        seen.push(current?.status);
        return { write: { repairs: 1 }, result: undefined };
      });
      assert.deepEqual(seen, ['pending', undefined]);
    });
    assert.ok(deleted);
    assert.equal((await ref.get()).exists, false);
  });

  const ENDING = { status: 'failed', errorCode: 'internal_error', lastError: 'internal error while reading or claiming attempt 2', updatedAt: new Date() } as const;

  it('end: a delivery not ended yet is ended (failed, nothing planned or in flight), even one whose fields the adapter cannot parse', async () => {
    const record = await plant();
    const ref = project.db.doc(deliveryPath(record.accountId, record.webhookId, record.eventId));
    await ref.update({ status: 'retrying', next: { number: 2 }, nextAttemptAt: new Date(), attempts: 'not a list', inFlight: { attempt: 2, claim: 'c' } });
    assert.equal(await project.adapter.end(record, ENDING), true);
    const ended = (await ref.get()).data()!;
    assert.deepEqual([ended.status, ended.errorCode, ended.lastError, ended.next, ended.nextAttemptAt, ended.inFlight, ended.attempts], ['failed', 'internal_error', ENDING.lastError, null, null, null, 'not a list']);
  });

  it('end: a delivery that has ended (succeeded, failed, invalid), or is gone, is left as it is (false)', async () => {
    for (const status of ['succeeded', 'failed', 'invalid']) {
      const record = await plant();
      const ref = project.db.doc(deliveryPath(record.accountId, record.webhookId, record.eventId));
      await ref.update({ status, lastError: `its own end (${status})` });
      const before = await ref.get();
      assert.equal(await project.adapter.end(record, ENDING), false, status);
      const after = await ref.get();
      assert.ok(after.updateTime!.isEqual(before.updateTime!), `${status}: not written`);
    }
    const gone = { accountId: 'acc_dlog', webhookId: 'w1', eventId: `evt_gone_${randomBytes(3).toString('hex')}` };
    assert.equal(await project.adapter.end(gone, ENDING), false);
    assert.equal((await project.db.doc(deliveryPath(gone.accountId, gone.webhookId, gone.eventId)).get()).exists, false);
  });

  it('end: a delivery another run finishes between the read and the write keeps that end', async () => {
    const record = await plant();
    const ref = project.db.doc(deliveryPath(record.accountId, record.webhookId, record.eventId));
    const finished = await beforeFirstUpdate(() => ref.update({ status: 'succeeded', lastError: null }), async () => {
      assert.equal(await project.adapter.end(record, ENDING), false);
    });
    assert.ok(finished);
    assert.equal((await ref.get()).get('status'), 'succeeded');
  });

  it('end: a write applied whose answer was lost (the retried commit fails its precondition) still answers true', async () => {
    const record = await plant();
    assert.ok(await withLostAnswer('update', async () => assert.equal(await project.adapter.end(record, ENDING), true)));
    assert.equal((await project.adapter.get(record))?.status, 'failed');
  });

  it('losing every round to other writers is ABORTED: a passing fault, retried later', async () => {
    const record = await plant();
    await withClientMethod('update', async () => {
      throw Object.assign(new Error('9 FAILED_PRECONDITION'), { code: GrpcStatus.FAILED_PRECONDITION });
    }, async () => {
      const error = await project.adapter.modify(record, () => ({ write: { repairs: 1 }, result: undefined })).then(() => undefined, (caught: unknown) => caught);
      assert.equal((error as { code?: number }).code, GrpcStatus.ABORTED);
      assert.equal((error as Error).name, 'ContendedError');
      assert.equal(classifyFailure(error), 'transient');
    });
  });
});

describe('FirestoreDeliveryLog.candidates on the emulator: the sweep reads page after page', () => {
  const project = onEmulatorProject('dpage', (db) => new FirestoreDeliveryLog(db));

  it('each overdue record comes once, by due time then path (ties included), across pages that start after the last one', async () => {
    const due = new Date('2026-12-01T10:00:00Z');
    const planted: string[] = [];
    // Five due at the same instant (the order is then the path), two later.
    for (const [index, offsetMs] of [0, 0, 0, 0, 0, 1000, 2000].entries()) {
      const record = pendingDelivery(eventOf('call.created', 'acc_page'), `w${index}`, `w${index}`, new Date(), 7);
      assert.deepEqual(await project.adapter.claim(record), { created: true });
      await project.db.doc(deliveryPath('acc_page', `w${index}`, record.eventId)).update({ status: 'retrying', nextAttemptAt: new Date(due.getTime() + offsetMs), inFlight: null });
      planted.push(`w${index}/${record.eventId}`);
    }
    const query = { pendingBefore: new Date(0), dueBefore: new Date(due.getTime() + 60_000), limit: 2 };
    const seen: string[] = [];
    let after: StaleCursors | undefined;
    const pageSizes: number[] = [];
    for (let pages = 0; pages < 10; pages += 1) {
      const page = await project.adapter.candidates(after ? { ...query, after } : query);
      seen.push(...page.records.map((record) => `${record.webhookId}/${record.eventId}`));
      pageSizes.push(page.records.length);
      assert.equal(page.next.pending, null, 'no pending record: that kind ended on the first page');
      if (!page.next.retrying) break;
      after = page.next;
    }
    assert.deepEqual(seen, planted, 'every record once, in order');
    assert.deepEqual(pageSizes, [2, 2, 2, 1], 'a full page has a next one; the short one ends the kind');
    // A kind that ended (null) is not queried: nothing of it comes back.
    assert.deepEqual(await project.adapter.candidates({ ...query, after: { pending: null, retrying: null } }), { records: [], next: { pending: null, retrying: null } });
  });
});
