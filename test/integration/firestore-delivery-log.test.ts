import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Firestore } from '@google-cloud/firestore';
import { pendingDelivery } from '../../functions/src/delivery/lease.ts';
import type { StoredDelivery } from '../../functions/src/delivery/ports.ts';
import { FirestoreDeliveryLog } from '../../functions/src/firestore/firestore-delivery-log.ts';
import { deliveryPath } from '../../functions/src/firestore/firestore-layout.ts';
import { eventOf } from '../support/harness.ts';

// The delivery log adapter against the real Firestore emulator: `modify` is the state machine's only
// read-modify-write (claims, takeovers, owner commits). It is an optimistic write on the version read,
// not a server transaction, so a writer killed half-way holds no lock; these cases show it still loses
// no concurrent change. (The bundle runs the same adapter in the crash and pipeline tests.)

describe('FirestoreDeliveryLog.modify on the emulator', () => {
  const projectId = `dlog-${randomBytes(4).toString('hex')}`;
  let db: Firestore;
  let log: FirestoreDeliveryLog;

  before(() => {
    db = new Firestore({ projectId });
    log = new FirestoreDeliveryLog(db);
  });
  after(() => db.terminate());

  const plant = async (): Promise<StoredDelivery> => {
    const record = pendingDelivery(eventOf('call.created', 'acc_dlog'), 'w1', 'w1', new Date(), 7);
    assert.deepEqual(await log.claim(record), { created: true });
    return record;
  };

  it('concurrent read-modify-writes of one record lose no update', async () => {
    const record = await plant();
    const writers = 12;
    let runs = 0;
    const results = await Promise.all(Array.from({ length: writers }, (_, index) => log.modify(record, (current) => {
      runs += 1;
      return { write: { repairs: (current?.repairs ?? 0) + 1 }, result: index };
    })));
    assert.deepEqual(results.sort((a, b) => a - b), Array.from({ length: writers }, (_, index) => index));
    assert.equal((await log.get(record))?.repairs, writers);
    // The writers did meet: some change ran again on a newer version (else the case proves nothing).
    assert.ok(runs > writers, `${runs} runs for ${writers} writers`);
  });

  it('a change that writes nothing leaves the document untouched', async () => {
    const record = await plant();
    const ref = db.doc(deliveryPath(record.accountId, record.webhookId, record.eventId));
    const before = (await ref.get()).updateTime!;
    assert.equal(await log.modify(record, (current) => ({ result: current?.status })), 'pending');
    assert.ok((await ref.get()).updateTime!.isEqual(before));
  });

  it('a missing record is handed to the change as undefined and never created', async () => {
    const key = { accountId: 'acc_dlog', webhookId: 'w1', eventId: `evt_missing_${randomBytes(3).toString('hex')}` };
    const seen = await log.modify(key, (current) => ({ write: { repairs: 1 }, result: current }));
    assert.equal(seen, undefined);
    assert.equal((await db.doc(deliveryPath(key.accountId, key.webhookId, key.eventId)).get()).exists, false);
  });
});
