/**
 * The Cloud Logging filter evaluator of test/support/log-filter.ts as a table: the other tests trust it
 * to say whether a metric's filter matches a log line, so it is checked on its own first.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { entryFromLine, extract, FilterSyntaxError, matches, parseFilter } from '../support/log-filter.ts';

const SERVICE = '${google_cloudfunctions2_function.dispatch.name}';
const entry = entryFromLine(
  { severity: 'WARNING', message: 'delivery failed (http_error)', deliveryOutcome: 'failed', errorCode: 'http_error', accountId: 'acc_1', durationMs: 42, filtered: true, stale: 0, nested: { kind: 'x' }, time: '2026-12-03T00:00:00Z', 'logging.googleapis.com/trace': 'projects/p/traces/t', function: 'dispatchEvent' },
  { type: 'cloud_run_revision', labels: { service_name: SERVICE } },
  ['function'],
);

describe('log filter evaluator', () => {
  const cases: Array<[string, boolean]> = [
    ['jsonPayload.deliveryOutcome="failed"', true],
    ['jsonPayload.deliveryOutcome="succeeded"', false],
    ['jsonPayload.deliveryOutcome=failed', true],
    ['jsonPayload.deliveryOutcome:*', true],
    ['jsonPayload.retryScheduled:*', false],
    ['jsonPayload.message:"FAILED"', true],
    ['jsonPayload.message:"succeeded"', false],
    ['jsonPayload.filtered=true', true],
    ['jsonPayload.filtered=false', false],
    ['jsonPayload.durationMs>=0', true],
    ['jsonPayload.durationMs>42', false],
    ['jsonPayload.durationMs<=42', true],
    ['jsonPayload.durationMs<100', true],
    ['jsonPayload.stale>0', false],
    ['jsonPayload.nested.kind="x"', true],
    ['jsonPayload.missing="x"', false],
    ['jsonPayload.missing!="x"', false],
    ['NOT jsonPayload.missing="x"', true],
    ['jsonPayload.errorCode!="internal_error"', true],
    ['severity>=WARNING', true],
    ['severity>WARNING', false],
    ['severity=WARNING', true],
    ['severity<ERROR', true],
    ['severity>=INFO AND severity<=ERROR', true],
    ['resource.type="cloud_run_revision"', true],
    [`resource.labels.service_name="${SERVICE}"`, true],
    ['resource.labels.service_name="other"', false],
    ['jsonPayload.a="1" OR jsonPayload.deliveryOutcome="failed"', true],
    ['jsonPayload.deliveryOutcome="failed" AND jsonPayload.accountId="acc_2"', false],
    ['jsonPayload.deliveryOutcome="failed" AND (jsonPayload.accountId="acc_2" OR jsonPayload.accountId="acc_1")', true],
    ['NOT (jsonPayload.deliveryOutcome="failed" AND jsonPayload.accountId="acc_1")', false],
    ['jsonPayload.a="1" OR jsonPayload.b="2" AND jsonPayload.deliveryOutcome="failed"', false],
    ['jsonPayload.time:*', false],
    ['jsonPayload.severity:*', false],
    ['jsonPayload.function:*', false],
  ];
  for (const [filter, expected] of cases) {
    it(`${filter} → ${expected}`, () => assert.equal(matches(filter, entry), expected));
  }

  const refused = ['jsonPayload.a="1" jsonPayload.b="2"', 'jsonPayload.a=~"x"', '(jsonPayload.a="1"', 'labels.x="1"', 'jsonPayload.a=', 'jsonPayload.a="unterminated', 'severity>=LOUD'];
  for (const filter of refused) {
    it(`refuses ${filter}`, () => assert.throws(() => matches(filter, entry), FilterSyntaxError));
  }

  it('AND binds tighter than OR', () => {
    assert.deepEqual(parseFilter('jsonPayload.a=1 OR jsonPayload.b=2 AND jsonPayload.c=3').kind, 'or');
  });

  it('extracts values and labels', () => {
    assert.equal(extract('EXTRACT(jsonPayload.durationMs)', entry), 42);
    assert.equal(extract('EXTRACT(jsonPayload.accountId)', entry), 'acc_1');
    assert.equal(extract('EXTRACT(jsonPayload.missing)', entry), undefined);
    assert.throws(() => extract('REGEXP_EXTRACT(jsonPayload.a, "(x)")', entry), FilterSyntaxError);
  });
});
