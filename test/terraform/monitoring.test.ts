/**
 * Offline checks of the monitoring Terraform (metrics.tf, alerts.tf, dashboard.tf): every log-based
 * metric's filter is in the subset of the Logging query language test/support/log-filter.ts evaluates
 * (so test/integration/log-metrics.test.ts can match it against real log lines), its extractors read
 * declared labels; every alert and every dashboard chart references a declared log metric or one of the
 * Google metrics named here (on the resources this deployment declares); thresholds and channels are
 * variables; the dashboard is valid JSON.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseFilter } from '../support/log-filter.ts';
import { LOG_METRIC_TYPE_PREFIX, loadTerraform } from '../support/terraform.ts';

const m = await loadTerraform();
const alerts = m.ofType('google_monitoring_alert_policy');
const dashboards = m.ofType('google_monitoring_dashboard');

/** Google's metrics the alerts and charts may use, each with the resource type and what it must be scoped to. */
const GOOGLE_METRICS: Record<string, { resourceType: string; scope?: RegExp }> = {
  'pubsub.googleapis.com/subscription/num_undelivered_messages': { resourceType: 'pubsub_subscription', scope: /resource\.labels\.subscription_id="\$\{google_pubsub_subscription\.events_dead_letter\.name\}"/ },
  'cloudtasks.googleapis.com/queue/task_attempt_delays': { resourceType: 'cloud_tasks_queue', scope: /resource\.labels\.queue_id="\$\{google_cloud_tasks_queue\.retries\.name\}"/ },
  'run.googleapis.com/request_count': { resourceType: 'cloud_run_revision', scope: /resource\.labels\.service_name=one_of\(/ },
};

/** The log metrics the issue asks for, by name. */
const REQUIRED_LOG_METRICS = ['hookshape/deliveries', 'hookshape/attempt_latency', 'hookshape/retries_scheduled', 'hookshape/filtered_events', 'hookshape/invalid_events', 'hookshape/repair_stale_found', 'hookshape/operations_publish_failed'];

const declaredLogMetricTypes = new Set(m.logMetrics.map((metric) => `${LOG_METRIC_TYPE_PREFIX}${metric.name}`));

/** Checks one Monitoring filter: its metric.type is declared (or a Google metric on our resources). */
function checkMonitoringFilter(filter: string, where: string): string {
  const expanded = m.expand(filter);
  const types = [...expanded.matchAll(/metric\.type="([^"]+)"/g)].map((match) => match[1]!);
  assert.equal(types.length, 1, `${where}: one metric.type expected in ${expanded}`);
  const type = types[0]!;
  if (type.startsWith(LOG_METRIC_TYPE_PREFIX)) {
    assert.ok(declaredLogMetricTypes.has(type), `${where}: ${type} is not a google_logging_metric declared in terraform/`);
    assert.match(filter, /\$\{google_logging_metric\.\w+\.name\}/, `${where}: reference the metric resource (an implicit dependency), not its name as text`);
  } else {
    const google = GOOGLE_METRICS[type];
    assert.ok(google, `${where}: ${type} is neither a declared log metric nor a Google metric this test knows`);
    assert.ok(expanded.includes(`resource.type="${google.resourceType}"`), `${where}: ${type} needs resource.type="${google.resourceType}"`);
    if (google.scope) assert.match(expanded, google.scope, `${where}: ${type} must be scoped to this deployment's resource`);
  }
  return type;
}

describe('log-based metrics', () => {
  it('the metrics the issue asks for are declared', () => {
    const names = m.logMetrics.map((metric) => metric.name);
    assert.deepEqual(REQUIRED_LOG_METRICS.filter((name) => !names.includes(name)), []);
  });

  for (const metric of m.logMetrics) {
    it(`${metric.address}: its filter is in the evaluated subset and scoped to hookshape's services`, () => {
      assert.doesNotThrow(() => parseFilter(metric.filter), `${metric.address}: ${metric.filter}`);
      assert.match(metric.filter, /resource\.type="cloud_run_revision"/);
      assert.match(metric.filter, /resource\.labels\.service_name="\$\{google_cloudfunctions2_function\.\w+\.name\}"/);
      assert.match(metric.filter, /jsonPayload\./, 'a metric counts lines hookshape writes');
    });

    it(`${metric.address}: label extractors read jsonPayload fields into declared labels`, () => {
      assert.deepEqual(Object.keys(metric.labelExtractors).sort(), [...metric.labels].sort(), 'each declared label has an extractor and no extractor is undeclared');
      for (const extractor of Object.values(metric.labelExtractors)) assert.match(extractor, /^EXTRACT\(jsonPayload\.\w+\)$/);
      if (metric.valueType === 'DISTRIBUTION') {
        assert.match(String(metric.valueExtractor), /^EXTRACT\(jsonPayload\.\w+\)$/, 'a distribution needs a value_extractor');
        assert.ok(metric.bucketOptions, 'a distribution needs bucket_options');
      } else {
        assert.equal(metric.valueExtractor, undefined);
      }
    });
  }

  it('attempt latency is a distribution of the numeric durationMs the attempt line carries', () => {
    const latency = m.logMetrics.find((metric) => metric.name === 'hookshape/attempt_latency');
    assert.equal(latency?.valueType, 'DISTRIBUTION');
    assert.equal(latency?.valueExtractor, 'EXTRACT(jsonPayload.durationMs)');
  });
});

describe('alert policies', () => {
  const wanted = ['delivery_failure_ratio', 'dead_letter_backlog', 'retry_task_delay', 'function_errors', 'repair_stale'];

  it('the five alerts of the issue exist', () => {
    assert.deepEqual(wanted.filter((name) => !alerts.some((alert) => alert.address === `google_monitoring_alert_policy.${name}`)), []);
  });

  for (const alert of alerts) {
    it(`${alert.address}: notifies var.alert_notification_channels, thresholds are variables, metrics are declared`, () => {
      assert.equal(alert.body['notification_channels'], '${var.alert_notification_channels}');
      const conditions = (alert.body['conditions'] as Array<Record<string, unknown>>) ?? [];
      assert.ok(conditions.length > 0);
      for (const condition of conditions) {
        // A threshold, or an absence (a heartbeat that stopped) whose window is the variable.
        const absent = (condition['condition_absent'] as Array<Record<string, unknown>>)?.[0];
        if (absent) {
          assert.match(String(absent['duration']), /^\$\{var\.alert_\w+ \* 60\}s$/, `${alert.address}: the absence window must be a variable (minutes)`);
          assert.ok(m.variables.has(/var\.(alert_\w+)/.exec(String(absent['duration']))![1]!));
          checkMonitoringFilter(String(absent['filter']), alert.address);
          continue;
        }
        const threshold = (condition['condition_threshold'] as Array<Record<string, unknown>>)?.[0];
        assert.ok(threshold, `${alert.address}: condition_threshold or condition_absent expected`);
        assert.match(String(threshold['threshold_value']), /^\$\{var\.alert_\w+( \* \d+)?\}$/, `${alert.address}: the threshold must be a variable`);
        const variable = /var\.(alert_\w+)/.exec(String(threshold['threshold_value']))?.[1];
        assert.ok(m.variables.has(variable!), `variable ${variable} is not declared`);
        checkMonitoringFilter(String(threshold['filter']), alert.address);
        if (threshold['denominator_filter'] !== undefined) checkMonitoringFilter(String(threshold['denominator_filter']), `${alert.address} denominator`);
      }
    });
  }

  it('the failure ratio divides failed deliveries by all deliveries of the same metric', () => {
    const threshold = (alerts.find((a) => a.address.endsWith('.delivery_failure_ratio'))!.body['conditions'] as Array<Record<string, Array<Record<string, unknown>>>>)[0]!['condition_threshold']![0]!;
    assert.equal(checkMonitoringFilter(String(threshold['filter']), 'numerator'), checkMonitoringFilter(String(threshold['denominator_filter']), 'denominator'));
    assert.match(String(threshold['filter']), /metric\.labels\.outcome="failed"/);
  });

  it('the dead-letter alert watches the subscription pubsub.tf declares on the dead-letter topic', () => {
    const subscription = m.resources.get('google_pubsub_subscription.events_dead_letter');
    assert.equal(subscription?.body['topic'], '${google_pubsub_topic.events_dead_letter.id}');
    assert.match(JSON.stringify(alerts.find((a) => a.address.endsWith('.dead_letter_backlog'))!.body), /google_pubsub_subscription\.events_dead_letter\.name/);
  });

  it('the function errors alert watches the service of every function terraform/ declares (the optional validator too)', () => {
    const services = String(m.locals.get('function_services'));
    const names = m.ofType('google_cloudfunctions2_function').map((fn) => ({ address: fn.address, name: /^\$\{(var\.\w+)\}$/.exec(String(fn.body['name']))?.[1] }));
    assert.ok(names.length >= 6);
    assert.deepEqual(names.filter(({ name }) => !name || !services.includes(name)).map(({ address }) => address), [], `local.function_services: ${services}`);
  });

  it("an alert fires when the repair sweep's heartbeat (hookshape/repair_runs) stops: condition_absent", () => {
    const watching = alerts.filter((alert) => JSON.stringify(alert.body).includes('google_logging_metric.repair_runs.name'));
    assert.equal(watching.length, 1, 'no alert policy references the repair_runs metric');
    const condition = (watching[0]!.body['conditions'] as Array<Record<string, Array<Record<string, unknown>>>>)[0]!;
    assert.ok(condition['condition_absent']?.[0], 'an absence condition, not a threshold');
  });

  it('an alert watches hookshape/events_not_dispatched: each one is an event no receiver got', () => {
    const watching = alerts.filter((alert) => JSON.stringify(alert.body).includes('google_logging_metric.events_not_dispatched.name'));
    assert.equal(watching.length, 1, 'no alert policy references the events_not_dispatched metric');
  });

  it('an alert watches hookshape/operations_publish_failed: each one is an account not told of a failure', () => {
    const watching = alerts.filter((alert) => JSON.stringify(alert.body).includes('google_logging_metric.operations_publish_failed.name'));
    assert.equal(watching.length, 1, 'no alert policy references the operations_publish_failed metric');
  });

  it('the channels variable is a list of ids, empty by default', () => {
    const variable = m.variables.get('alert_notification_channels');
    assert.equal(variable?.['type'], '${list(string)}');
    assert.deepEqual(variable?.['default'], []);
  });
});

describe('dashboard', () => {
  it('one google_monitoring_dashboard whose dashboard_json is jsonencode(local.dashboard)', () => {
    assert.equal(dashboards.length, 1);
    assert.equal(dashboards[0]!.body['dashboard_json'], '${jsonencode(local.dashboard)}');
  });

  const dashboard = m.locals.get('dashboard') as Record<string, unknown> | undefined;
  const tiles = ((dashboard?.['mosaicLayout'] as Record<string, unknown> | undefined)?.['tiles'] as Array<Record<string, unknown>> | undefined) ?? [];
  const filters = tiles.flatMap((tile) => {
    const widget = tile['widget'] as Record<string, unknown>;
    const dataSets = ((widget?.['xyChart'] as Record<string, unknown> | undefined)?.['dataSets'] as Array<Record<string, unknown>>) ?? [];
    return dataSets.map((set) => ({ title: String(widget['title']), filter: String(((set['timeSeriesQuery'] as Record<string, Record<string, unknown>>)?.['timeSeriesFilter'])?.['filter']) }));
  });

  it('is valid JSON of the Monitoring dashboard shape (displayName, a 12-column mosaic of charts)', () => {
    assert.ok(dashboard, 'local.dashboard is missing');
    const json = JSON.parse(JSON.stringify(dashboard)) as Record<string, unknown>;
    assert.equal(typeof json['displayName'], 'string');
    assert.equal((json['mosaicLayout'] as Record<string, unknown>)['columns'], 12);
    assert.ok(tiles.length >= 6);
    for (const tile of tiles) {
      for (const key of ['xPos', 'yPos', 'width', 'height']) assert.equal(typeof tile[key], 'number', `tile ${key}`);
      assert.ok((tile['xPos'] as number) + (tile['width'] as number) <= 12, 'tiles fit the 12 columns');
      assert.ok(String((tile['widget'] as Record<string, unknown>)['title'] ?? '').length > 0, 'every chart has a title');
    }
  });

  it('every chart references a declared metric', () => {
    assert.ok(filters.length > 0);
    for (const { title, filter } of filters) checkMonitoringFilter(filter, `dashboard chart "${title}"`);
  });

  it('charts every log metric and every metric an alert watches', () => {
    const charted = new Set(filters.map(({ filter }) => /metric\.type="([^"]+)"/.exec(m.expand(filter))?.[1]));
    const alerted = alerts.flatMap((alert) => [...m.expand(JSON.stringify(alert.body)).matchAll(/metric\.type=\\"([^"\\]+)\\"/g)].map((match) => match[1]));
    const missing = [...declaredLogMetricTypes, ...alerted].filter((type) => !charted.has(type));
    assert.deepEqual([...new Set(missing)], []);
  });
});
