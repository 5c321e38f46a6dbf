/**
 * Every log-based metric of terraform/ counts lines the built functions really write. The functions of
 * build/functions (harness: emulators, Cloud Tasks emulator, the repair sweep) run a success, a failure,
 * a retry, a filtered event, an invalid webhook document, an auto-disable, an unreadable message, one not even recordable
 * as invalid, a repair sweep that
 * finds a stale record and an operational event that cannot be published (the operations topic is gone); their stdout lines are turned into log entries as Cloud Logging ingests them
 * (test/support/log-filter.ts entryFromLine) and each metric's filter must match at least one, with the
 * labels and values its extractors read. This is the check that a renamed log field breaks.
 *
 * Resource rule: a local run has no monitored resource, so each line gets the one Cloud Logging would
 * give it: resource.type "cloud_run_revision" and resource.labels.service_name the Terraform expression
 * naming the Cloud Run service of the function that wrote it (${google_cloudfunctions2_function.X.name},
 * found by its entry point in terraform/), which is exactly what the filters compare against.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { deliveryPath, pendingDelivery } from '../support/kit.ts';
import { entryFromLine, extract, matches, type LogEntryModel } from '../support/log-filter.ts';
import { eventOf, startHarness, type Harness } from '../support/harness.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';
import { loadTerraform, type Terraform } from '../support/terraform.ts';
import { until } from '../support/until.ts';

const ACCOUNT = 'acc_metrics';
let h: Harness;
let receiver: Receiver;
let tf: Terraform;
let entries: Array<{ entry: LogEntryModel; line: Record<string, unknown> }> = [];
let eventId = '';
let staleEventId = '';

before(async () => {
  [h, receiver, tf] = await Promise.all([startHarness({ repair: true, env: { AUTO_DISABLE_AFTER_FAILURES: '1' } }), startReceiver(), loadTerraform()]);
  const flaky = [500];
  receiver.respond((request, res) => {
    res.statusCode = request.url === '/gone' ? 410 : request.url === '/flaky' ? (flaky.shift() ?? 200) : 200;
    res.end('answer');
  });
  // The failed delivery's announcement (hookshape.delivery.failed) then fails: operations_publish_failed.
  await h.pubsub.topic(h.operationsTopic).delete();
  const hook = (id: string, fields: Record<string, unknown> = {}) => h.setWebhook(ACCOUNT, id, { name: id, events: ['call.created'], url: `${receiver.url}/${id}`, timeoutSeconds: 10, ...fields });
  await Promise.all([
    hook('ok'),
    hook('gone'),
    hook('flaky'),
    hook('filtered', { filter: { 'data.call.durationSeconds': { $gt: 60 } } }),
    hook('broken', { method: 'FETCH' }),
  ]);
  const event = eventOf('call.created', ACCOUNT, { call: { id: 'c1', durationSeconds: 30 } });
  eventId = event.id;
  await h.publish(event);
  await h.publish(Buffer.from('this is not JSON'), {});
  // A message not even recordable as invalid (its id is no document id: a lasting fault, acknowledged and
  // logged whole): not dispatched. Real Pub/Sub ids are digits; the push is the bench's, straight to the function.
  const push = await fetch(`${h.dispatchUrl.replace(/\/$/, '')}/projects/${h.projectId}/topics/hookshape-events`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ subscription: `projects/${h.projectId}/subscriptions/direct`, message: { data: Buffer.from('not JSON either').toString('base64'), messageId: 'not/recordable', attributes: {} } }),
  });
  assert.ok(push.ok, `the push is acknowledged: ${push.status}`);
  // A delivery whose dispatcher died long ago: the sweep finds it stale and moves it on.
  const stale = eventOf('call.created', ACCOUNT, { call: { id: 'c2', durationSeconds: 90 } });
  staleEventId = stale.id;
  await h.db.doc(deliveryPath(ACCOUNT, 'ok', stale.id)).create(pendingDelivery(stale, 'ok', 'ok', new Date(Date.now() - 3_600_000), 30));

  for (const id of ['ok', 'gone', 'flaky', 'broken']) await h.waitForDelivery(ACCOUNT, id, event.id, undefined, 30_000);
  const sweep = await h.sweep();
  assert.equal(sweep.status, 200, JSON.stringify(sweep.body));
  await h.waitForDelivery(ACCOUNT, 'ok', stale.id, (record) => record.status === 'succeeded', 30_000);
  await h.waitForLog((line) => line['filtered'] === true);
  await h.waitForLog((line) => line['invalid'] === 'event');
  await h.waitForLog((line) => line['notDispatched'] === true);
  // Both: the disable's and the failed delivery's, logged one publish apart.
  for (const type of ['hookshape.webhook.disabled', 'hookshape.delivery.failed']) await h.waitForLog((line) => line['errorCode'] === 'operations_publish_failed' && line['operationalEventType'] === type);
  await h.waitForLog((line) => line['deliveryId'] === `ok/${stale.id}` && line['deliveryOutcome'] === 'succeeded');
  // Each delivery's outcome line is written after its record, and an attempt's line may trail the record too:
  // the snapshot below is taken once all of them are in.
  for (const id of ['ok', 'gone', 'flaky', 'broken']) await h.waitForLog((line) => line['eventId'] === event.id && line['webhookId'] === id && line['deliveryOutcome'] !== undefined);
  await until('the four attempt lines', () => (h.logs.filter((line) => line['eventId'] === event.id && typeof line['durationMs'] === 'number' && line['outcome'] !== undefined).length >= 4 ? true : undefined), 15_000);

  entries = h.logs.map((line) => {
    const service = tf.serviceOfEntryPoint.get(line.function);
    assert.ok(service, `no google_cloudfunctions2_function in terraform/ has entry point ${line.function}`);
    return { line, entry: entryFromLine(line, { type: 'cloud_run_revision', labels: { service_name: service } }, ['function']) };
  });
});
after(async () => {
  await Promise.all([h?.close(), receiver?.close()]);
});

const matching = (filter: string) => entries.filter(({ entry }) => matches(filter, entry));
const metric = (name: string) => {
  const found = tf.logMetrics.find((m) => m.name === name);
  assert.ok(found, `no log metric ${name}`);
  return found;
};

describe('each log-based metric matches lines the built functions wrote', () => {
  it('there are log metrics and captured lines of every function involved', () => {
    assert.ok(tf.logMetrics.length >= 6);
    for (const fn of ['dispatchEvent', 'retryWorker', 'repairDeliveries']) assert.ok(entries.some(({ line }) => line['function'] === fn), `no line of ${fn}`);
  });

  it('every metric matches at least one line, and its extractors find their values there', () => {
    const unmatched: string[] = [];
    for (const m of tf.logMetrics) {
      const hits = matching(m.filter);
      if (hits.length === 0) {
        unmatched.push(`${m.name}: ${m.filter}`);
        continue;
      }
      for (const [label, extractor] of Object.entries(m.labelExtractors)) {
        assert.ok(hits.some(({ entry }) => typeof extract(extractor, entry) === 'string' && String(extract(extractor, entry)).length > 0), `${m.name}: label ${label} (${extractor}) is empty on every matching line`);
      }
      if (m.valueExtractor) {
        for (const { entry } of hits) assert.equal(typeof extract(m.valueExtractor, entry), 'number', `${m.name}: ${m.valueExtractor} must be a number on every matching line`);
      }
    }
    assert.deepEqual(unmatched, [], `metrics whose filter matches no captured line (of ${entries.length})`);
  });

  it('deliveries: one line per ended delivery, by outcome', () => {
    const hits = matching(metric('hookshape/deliveries').filter).filter(({ line }) => line['eventId'] === eventId);
    const byWebhook = hits.map(({ line }) => `${String(line['webhookId'])}=${String(line['deliveryOutcome'])}`).sort();
    assert.deepEqual(byWebhook, ['broken=invalid', 'flaky=succeeded', 'gone=failed', 'ok=succeeded']);
    assert.ok(hits.every(({ entry }) => extract('EXTRACT(jsonPayload.accountId)', entry) === ACCOUNT));
    const gone = hits.find(({ line }) => line['webhookId'] === 'gone')!;
    assert.equal(extract('EXTRACT(jsonPayload.errorCode)', gone.entry), 'http_error');
  });

  it('attempt latency: one value per attempt made (flaky twice), from the dispatcher and the worker', () => {
    const hits = matching(metric('hookshape/attempt_latency').filter).filter(({ line }) => line['eventId'] === eventId);
    assert.deepEqual(hits.map(({ line }) => String(line['webhookId'])).sort(), ['flaky', 'flaky', 'gone', 'ok']);
    assert.ok(hits.some(({ line }) => line['function'] === 'retryWorker'));
  });

  it('retries scheduled: the flaky delivery once, the stale one by the sweep', () => {
    const hits = matching(metric('hookshape/retries_scheduled').filter);
    assert.deepEqual(hits.filter(({ line }) => line['eventId'] === eventId).map(({ line }) => line['webhookId']), ['flaky']);
    assert.ok(hits.some(({ line }) => line['eventId'] === staleEventId && line['function'] === 'repairDeliveries'));
  });

  it('filtered and invalid events', () => {
    assert.deepEqual(matching(metric('hookshape/filtered_events').filter).map(({ line }) => line['webhookId']), ['filtered']);
    const invalid = matching(metric('hookshape/invalid_events').filter).map(({ line }) => `${String(line['invalid'])}:${String(line['webhookId'] ?? '-')}`).sort();
    // Two unreadable messages: the one recorded in invalidEvents and the one that could not be (also not dispatched).
    assert.deepEqual(invalid, ['event:-', 'event:-', 'webhook:broken']);
  });

  it('operational events not published: the failed delivery of the gone webhook and its disable, by the dispatcher', () => {
    const hits = matching(metric('hookshape/operations_publish_failed').filter);
    const byType = Object.fromEntries(hits.map(({ line, entry }) => [String(extract('EXTRACT(jsonPayload.operationalEventType)', entry)), `${String(line['function'])}:${String(line['operationalEventId'])}`]));
    assert.equal(hits.length, 2);
    assert.equal(byType['hookshape.delivery.failed'], `dispatchEvent:df:gone:${eventId}`);
    assert.match(byType['hookshape.webhook.disabled'] ?? '', /^dispatchEvent:wd:gone:\d+$/);
  });

  it('events not dispatched: the message that could not even be recorded as invalid, once', () => {
    const hits = matching(metric('hookshape/events_not_dispatched').filter);
    assert.deepEqual(hits.map(({ line }) => line['messageId']), ['not/recordable']);
    assert.equal(hits[0]!.entry.severity, 'ERROR');
  });

  it('webhooks auto-disabled: the gone webhook, after its one failure (AUTO_DISABLE_AFTER_FAILURES=1), by account', () => {
    const hits = matching(metric('hookshape/webhooks_auto_disabled').filter);
    assert.deepEqual(hits.map(({ line, entry }) => `${String(line['webhookId'])}:${String(extract('EXTRACT(jsonPayload.accountId)', entry))}`), [`gone:${ACCOUNT}`]);
  });

  it("the repair sweep's heartbeat: its summary line, one per run", () => {
    const hits = matching(metric('hookshape/repair_runs').filter);
    assert.equal(hits.length, 1, 'the one sweep of this test');
    assert.equal(hits[0]!.line['function'], 'repairDeliveries');
  });

  it('the repair sweep that found the stale record', () => {
    const hits = matching(metric('hookshape/repair_stale_found').filter);
    assert.equal(hits.length, 1);
    assert.ok(Number(hits[0]!.line['stale']) >= 1);
  });
});
