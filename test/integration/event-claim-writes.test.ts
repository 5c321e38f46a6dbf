import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { eventClaimPath, Firestore, webhookPath } from '../support/kit.ts';
import { startRpcProxy, type RpcProxy } from '../../bench/lib/firestore-rpc-proxy.ts';
import { benchEvent, demoWebhook } from '../../bench/lib/fixtures.ts';
import { BUILD_DIR, type FunctionProcess } from '../../bench/lib/function-process.ts';
import { secretsDir, startArrivalReceiver, startListening, type ArrivalReceiver } from '../../bench/lib/push-bench.ts';

// Issue 18: an event fanned out to N webhooks costs N + 1 Firestore writes on the success path (one event
// claim, then each delivery's record created with its result), counted on the wire: the built dispatch
// function talks to the emulator through the bench's counting gRPC proxy (writes inside each Commit).

const WEBHOOKS = 10;

describe('writes per event, counted on the wire (built bundle, emulator)', () => {
  const projectId = `writes-${randomBytes(4).toString('hex')}`;
  const accountId = `acc_writes_${randomBytes(3).toString('hex')}`;
  let db: Firestore;
  let proxy: RpcProxy;
  let receiver: ArrivalReceiver;
  let fn: FunctionProcess;
  let secrets: ReturnType<typeof secretsDir>;

  before(async () => {
    const firestoreHost = process.env.FIRESTORE_EMULATOR_HOST;
    assert.ok(firestoreHost, 'FIRESTORE_EMULATOR_HOST is set by npm test');
    db = new Firestore({ projectId });
    receiver = await startArrivalReceiver();
    const batch = db.batch();
    for (let i = 0; i < WEBHOOKS; i++) batch.set(db.doc(webhookPath(accountId, `wh_${String(i).padStart(2, '0')}`)), { ...demoWebhook(`${receiver.url}/v0/appDemo/Calls`), name: `Airtable ${i}` });
    await batch.commit();
    secrets = secretsDir([accountId]);
    proxy = await startRpcProxy(firestoreHost);
    fn = await startListening(BUILD_DIR, projectId, proxy.host, { LOCAL_SECRETS_FILE: secrets.file, WEBHOOK_CACHE_SECONDS: '600' });
  });

  after(async () => {
    await fn?.stop();
    await proxy?.close();
    await receiver?.close();
    secrets?.remove();
    await db?.terminate();
  });

  it(`an event to ${WEBHOOKS} webhooks: ${WEBHOOKS + 1} writes (1 + 1/N per delivery); the same event again: none`, async () => {
    // The first event of the cache period also reads the webhooks: counted apart, not asserted here.
    const warmUp = benchEvent(`evt_writes_warm_${randomBytes(4).toString('hex')}`, accountId);
    const warmed = receiver.expect(warmUp.id, WEBHOOKS);
    const warmStatus = await fn.push(warmUp);
    assert.ok(warmStatus < 300, `the function answered ${warmStatus}\n${fn.stderr()}`);
    await warmed;

    const event = benchEvent(`evt_writes_${randomBytes(4).toString('hex')}`, accountId);
    const arrived = receiver.expect(event.id, WEBHOOKS);
    proxy.reset();
    const status = await fn.push(event);
    assert.ok(status < 300, `the function answered ${status}\n${fn.stderr()}`);
    await arrived;
    const counts = proxy.counts();
    assert.equal(counts.writes, WEBHOOKS + 1, `writes: ${JSON.stringify(counts)}`);
    assert.equal(counts.calls.Commit, WEBHOOKS + 1, 'one commit each: the claim, then each result');
    assert.equal(counts.calls.BeginTransaction ?? 0, 0, 'no transaction');
    assert.equal((await db.doc(eventClaimPath(accountId, event.id)).get()).get('webhookIds').length, WEBHOOKS);
    for (let i = 0; i < WEBHOOKS; i++) {
      const record = await db.doc(`${webhookPath(accountId, `wh_${String(i).padStart(2, '0')}`)}/deliveries/${event.id}`).get();
      assert.equal(record.get('status'), 'succeeded');
    }

    // Pub/Sub redelivers it: one failed create of the claim, a read per record, nothing sent or written.
    const before = receiver.total();
    proxy.reset();
    const again = await fn.push(event);
    assert.ok(again < 300, `the redelivery is acknowledged (${again})`);
    const redelivered = proxy.counts();
    // The proxy counts the writes a Commit asks for: the claim's create, refused (ALREADY_EXISTS, not billed).
    assert.equal(redelivered.writes, 1, `only the refused create of the claim: ${JSON.stringify(redelivered)}`);
    assert.equal(redelivered.calls.BatchGetDocuments, 1 + WEBHOOKS, 'the claim, then each record, read');
    assert.equal(receiver.total(), before, 'nothing sent again');
  });
});
