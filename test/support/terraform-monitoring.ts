/**
 * Reads the monitoring part of terraform/ offline (@cdktf/hcl2json): the log-based metrics with their
 * filters (`${local.X}` expanded), the alert policies, the dashboard object, and which Cloud Run service
 * name (as a Terraform expression) each function's entry point runs under. Shared by the offline test
 * (test/terraform/monitoring.test.ts) and the test that matches the filters against real log lines
 * (test/integration/log-metrics.test.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';

export const TERRAFORM_DIR = fileURLToPath(new URL('../../terraform/', import.meta.url));
export const LOG_METRIC_TYPE_PREFIX = 'logging.googleapis.com/user/';

type Obj = Record<string, unknown>;
const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const first = (value: unknown): Obj | undefined => (Array.isArray(value) ? value.find(isObj) : isObj(value) ? value : undefined);

export interface LogMetric {
  address: string;
  name: string;
  /** The filter with `${local.X}` expanded; `${TYPE.NAME.name}` references are left as written. */
  filter: string;
  valueType: string;
  valueExtractor: string | undefined;
  labelExtractors: Record<string, string>;
  labels: string[];
  bucketOptions: Obj | undefined;
}

export interface Monitoring {
  resources: Map<string, { type: string; name: string; body: Obj }>;
  locals: Map<string, unknown>;
  variables: Map<string, Obj>;
  logMetrics: LogMetric[];
  alerts: Array<{ address: string; body: Obj }>;
  dashboards: Array<{ address: string; body: Obj }>;
  /** Entry point → the Terraform expression of its Cloud Run service name, e.g. ${google_cloudfunctions2_function.dispatch.name}. */
  serviceOfEntryPoint: Map<string, string>;
  /** Expands `${local.X}` (strings) and `${google_logging_metric.X.name}` / `${local.log_metric_prefix}`. */
  expand(text: string): string;
}

export async function loadMonitoring(): Promise<Monitoring> {
  const resources = new Map<string, { type: string; name: string; body: Obj }>();
  const locals = new Map<string, unknown>();
  const variables = new Map<string, Obj>();
  for (const file of readdirSync(TERRAFORM_DIR).filter((f) => f.endsWith('.tf')).sort()) {
    const json = (await parse(file, readFileSync(`${TERRAFORM_DIR}${file}`, 'utf8'))) as Obj;
    const byType = json['resource'];
    if (isObj(byType)) {
      for (const [type, byName] of Object.entries(byType)) {
        if (!isObj(byName)) continue;
        for (const name of Object.keys(byName)) {
          const body = first(byName[name]);
          if (body) resources.set(`${type}.${name}`, { type, name, body });
        }
      }
    }
    for (const block of Array.isArray(json['locals']) ? json['locals'] : []) {
      if (isObj(block)) for (const [name, value] of Object.entries(block)) locals.set(name, value);
    }
    if (isObj(json['variable'])) for (const [name, value] of Object.entries(json['variable'])) variables.set(name, first(value) ?? {});
  }
  const expand = (text: string, depth = 0): string => {
    if (depth > 5) return text;
    return text.replace(/\$\{(local\.(\w+)|google_logging_metric\.(\w+)\.name)\}/g, (whole, _expr, local?: string, metric?: string) => {
      if (local) {
        const value = locals.get(local);
        return typeof value === 'string' ? expand(value, depth + 1) : whole;
      }
      const name = resources.get(`google_logging_metric.${metric}`)?.body['name'];
      return typeof name === 'string' ? name : whole;
    });
  };
  const logMetrics: LogMetric[] = [...resources.entries()]
    .filter(([, r]) => r.type === 'google_logging_metric')
    .map(([address, { body }]) => {
      const descriptor = first(body['metric_descriptor']) ?? {};
      const labels = (Array.isArray(descriptor['labels']) ? descriptor['labels'] : []).filter(isObj).map((label) => String(label['key']));
      return {
        address,
        name: String(body['name']),
        filter: expand(String(body['filter'] ?? '')),
        valueType: String(descriptor['value_type'] ?? ''),
        valueExtractor: typeof body['value_extractor'] === 'string' ? body['value_extractor'] : undefined,
        labelExtractors: (isObj(body['label_extractors']) ? body['label_extractors'] : {}) as Record<string, string>,
        labels,
        bucketOptions: first(body['bucket_options']),
      };
    });
  const serviceOfEntryPoint = new Map<string, string>();
  for (const [address, r] of resources) {
    if (r.type !== 'google_cloudfunctions2_function') continue;
    const entry = first(r.body['build_config'])?.['entry_point'];
    if (typeof entry === 'string') serviceOfEntryPoint.set(entry, `\${${address}.name}`);
  }
  return {
    resources,
    locals,
    variables,
    logMetrics,
    alerts: [...resources.entries()].filter(([, r]) => r.type === 'google_monitoring_alert_policy').map(([address, r]) => ({ address, body: r.body })),
    dashboards: [...resources.entries()].filter(([, r]) => r.type === 'google_monitoring_dashboard').map(([address, r]) => ({ address, body: r.body })),
    serviceOfEntryPoint,
    expand: (text) => expand(text),
  };
}
