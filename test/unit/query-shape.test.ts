import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FieldPath, Firestore } from '@google-cloud/firestore';
import { oldestQuery, statusCountQuery } from '../../functions/src/firestore/firestore-account-status.ts';
import { ACCOUNT_DELIVERIES_BY_STATUS, ACCOUNT_EVENT, ACCOUNT_OLDEST_BY_STATUS, DELIVERIES_BY_STATUS, DELIVERIES_OF_WEBHOOK, INDEXED_QUERIES, OVERDUE_RETRIES, STALE_PENDING_DELIVERIES, WEBHOOKS_BY_EVENT_TYPE, WEBHOOKS_BY_ID } from '../../functions/src/firestore/firestore-layout.ts';
import { queryShape, servedBy } from '../../functions/src/firestore/query-shape.ts';
import { finishedDeliveriesQuery } from '../../functions/src/firestore/firestore-webhook-store.ts';
import { staleQuery } from '../../functions/src/firestore/firestore-delivery-log.ts';

// Queries are only built here, never run: the client library serialises them without a connection.
const db = new Firestore({ projectId: 'query-shapes' });
const deliveries = db.collection('accounts/a/webhooks/w/deliveries');
const SWEEP = { pendingBefore: new Date(0), dueBefore: new Date(0), limit: 200 };

const cases = [
  { name: "the dispatcher's array-contains", query: db.collection('accounts/a/webhooks').where('events', 'array-contains', 'call.created'), declared: WEBHOOKS_BY_EVENT_TYPE },
  { name: 'webhooks by id (the trailing __name__ needs no index)', query: db.collection('accounts/a/webhooks').orderBy(FieldPath.documentId()).limit(3), declared: WEBHOOKS_BY_ID },
  { name: "the repair sweep's pending page, after a cursor (the trailing __name__ needs no index)", query: staleQuery(db, 'pending', SWEEP, { at: new Date(0), path: 'accounts/a/webhooks/w/deliveries/e' }), declared: STALE_PENDING_DELIVERIES },
  { name: "the repair sweep's first retrying page", query: staleQuery(db, 'retrying', SWEEP, undefined), declared: OVERDUE_RETRIES },
  { name: "auto-disable's finished deliveries (status in, newest first)", query: finishedDeliveriesQuery(db, 'a', 'w', 15), declared: DELIVERIES_BY_STATUS },
  { name: 'a status filter and a range on the sort field', query: deliveries.orderBy('createdAt', 'desc').where('status', '==', 'failed').where('createdAt', '>=', new Date(0)), declared: DELIVERIES_BY_STATUS },
  { name: 'one webhook, newest first, with a cursor order', query: deliveries.orderBy('createdAt', 'desc').orderBy(FieldPath.documentId(), 'desc'), declared: DELIVERIES_OF_WEBHOOK },
  { name: 'an account across webhooks (collection group)', query: db.collectionGroup('deliveries').where('accountId', '==', 'a').where('status', '==', 'failed').orderBy('createdAt', 'desc'), declared: ACCOUNT_DELIVERIES_BY_STATUS },
  { name: 'equalities only', query: db.collectionGroup('deliveries').where('accountId', '==', 'a').where('eventId', '==', 'e'), declared: ACCOUNT_EVENT },
  { name: "hookshape status: an account's count of one status since a time", query: statusCountQuery(db, 'a', 'failed', new Date(0)), declared: ACCOUNT_DELIVERIES_BY_STATUS },
  { name: "hookshape status: an account's oldest pending record", query: oldestQuery(db, 'a', 'pending'), declared: ACCOUNT_OLDEST_BY_STATUS },
  { name: "hookshape status: an account's oldest retrying record", query: oldestQuery(db, 'a', 'retrying'), declared: ACCOUNT_OLDEST_BY_STATUS },
  { name: 'an inequality without its sort (Firestore sorts on it)', query: db.collectionGroup('deliveries').where('status', '==', 'retrying').where('nextAttemptAt', '<=', new Date(0)), declared: OVERDUE_RETRIES },
];

describe('queryShape: the index a query needs, read from the request the client sends', () => {
  for (const { name, query, declared } of cases) {
    it(name, () => {
      const shape = queryShape(query);
      assert.ok(servedBy(shape, declared), `${JSON.stringify(shape)} is served by ${declared.usedBy}`);
    });
  }

  it('a query with one more filter is served by no declared query', () => {
    const shape = queryShape(db.collectionGroup('deliveries').where('accountId', '==', 'a').where('webhookName', '==', 'x').orderBy('createdAt', 'desc'));
    assert.equal(INDEXED_QUERIES.some((declared) => servedBy(shape, declared)), false);
  });

  it('scope matters: the collection form of a collection-group query is another query', () => {
    const shape = queryShape(deliveries.where('accountId', '==', 'a').where('status', '==', 'failed').orderBy('createdAt', 'desc'));
    assert.equal(servedBy(shape, ACCOUNT_DELIVERIES_BY_STATUS), false);
  });

  it('every declared query has a distinct shape', () => {
    const shapes = INDEXED_QUERIES.map((query) => JSON.stringify([query.collectionGroup, query.queryScope, query.fields]));
    assert.equal(new Set(shapes).size, shapes.length);
  });
});
