/**
 * terraform/ as data, offline (no terraform binary, no provider download). @cdktf/hcl2json turns each
 * file into JSON: a block is an array of objects, an expression a "${...}" string. This indexes that
 * JSON and resolves the few expression forms the checks need (variables at their defaults, locals,
 * arguments of other resources), nothing more. Used by test/terraform/*.test.ts and by
 * test/integration/log-metrics.test.ts (the log-based metrics' filters against real log lines).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from '@cdktf/hcl2json';

export const TERRAFORM_DIR = fileURLToPath(new URL('../../terraform/', import.meta.url));
export const LOG_METRIC_TYPE_PREFIX = 'logging.googleapis.com/user/';

export type Obj = Record<string, unknown>;
/** A resource; address is TYPE.NAME, as Terraform writes it. */
export type Resource = { address: string; type: string; body: Obj };
export type Terraform = Awaited<ReturnType<typeof loadTerraform>>;
/** One IAM grant: a *_iam_member, or one member of a *_iam_binding, per for_each instance. */
export type Binding = ReturnType<Terraform['iamBindings']>[number];

export const isObj = (value: unknown): value is Obj => typeof value === 'object' && value !== null && !Array.isArray(value);
const entries = (value: unknown): Array<[string, unknown]> => (isObj(value) ? Object.entries(value) : []);
/** Every object of a block (one or many), and the first. */
export const blocks = (body: unknown, key: string): Obj[] => [isObj(body) ? body[key] : undefined].flat().filter(isObj);
export const block = (body: unknown, key: string): Obj | undefined => blocks(body, key)[0];
/** The inside of a value that is one whole "${...}" expression, else undefined. */
export const expression = (value: unknown): string | undefined => (typeof value === 'string' ? /^\$\{([^{}]*)\}$/.exec(value)?.[1]?.trim() : undefined);
/** "${TYPE.NAME.ATTR}" (or "${TYPE.NAME[0].ATTR}") gives "TYPE.NAME". */
export const referencedAddress = (value: unknown): string | undefined => /^(\w+\.\w+)(?:\[\d+\])?\.\w+$/.exec(expression(value) ?? '')?.[1];

/** Whether a grant's target (any argument but role/member) references the given resource address. */
export const targets = (binding: Binding, address: string): boolean =>
  Object.entries(binding.body).some(([key, value]) => !['role', 'member', 'members', 'for_each', 'depends_on'].includes(key) && JSON.stringify(value).includes(address));

/** Every string in a parsed value, with its path. */
export function* strings(value: unknown, path = ''): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value];
  else if (Array.isArray(value)) for (const [i, item] of value.entries()) yield* strings(item, `${path}[${i}]`);
  else for (const [key, item] of entries(value)) yield* strings(item, path ? `${path}.${key}` : key);
}

export async function parseFile(file: string): Promise<{ file: string; json?: Obj; error?: string }> {
  try {
    return { file, json: await parse(file, readFileSync(`${TERRAFORM_DIR}${file}`, 'utf8')) };
  } catch (error) {
    return { file, error: String(error) };
  }
}

export async function loadTerraform() {
  const files = await Promise.all(readdirSync(TERRAFORM_DIR).filter((file) => file.endsWith('.tf')).sort().map(parseFile));
  const [resources, variables, outputs, locals] = [new Map<string, Resource>(), new Map<string, Obj>(), new Map<string, Obj>(), new Map<string, unknown>()];
  const first = (value: unknown): Obj => blocks({ value }, 'value')[0] ?? {};
  for (const { json } of files) {
    for (const [type, byName] of entries(json?.['resource'])) {
      for (const [name, body] of entries(byName)) resources.set(`${type}.${name}`, { address: `${type}.${name}`, type, body: first(body) });
    }
    for (const [name, body] of entries(json?.['variable'])) variables.set(name, first(body));
    for (const [name, body] of entries(json?.['output'])) outputs.set(name, first(body));
    for (const [name, value] of blocks(json, 'locals').flatMap(Object.entries)) locals.set(name, value);
  }
  const ofType = (type: string): Resource[] => [...resources.values()].filter((resource) => resource.type === type);

  function variableDefault(name: string): unknown {
    const variable = variables.get(name);
    assert.ok(variable, `variable "${name}" is referenced but not declared in terraform/variables.tf`);
    return variable['default'];
  }

  /**
   * A value with every variable at its default: literals, var.X, tostring(var.X), local.X, and
   * TYPE.NAME.ATTR (that resource's argument). Anything else (computed attributes, function calls,
   * interpolated strings) gives undefined.
   */
  function resolve(value: unknown, depth = 0): unknown {
    if (typeof value !== 'string' || !value.includes('${')) return value;
    const expr = expression(value) ?? '';
    const variable = /^var\.(\w+)$|^tostring\(var\.(\w+)\)$/.exec(expr);
    if (variable) {
      const resolved = variableDefault((variable[1] ?? variable[2])!);
      return variable[2] && resolved !== undefined ? String(resolved) : resolved;
    }
    const local = /^local\.(\w+)$/.exec(expr)?.[1];
    const attribute = /^(\w+\.\w+)\.(\w+)$/.exec(expr);
    const next = local ? locals.get(local) : attribute ? resources.get(attribute[1]!)?.body[attribute[2]!] : undefined;
    return next !== undefined && depth < 10 ? resolve(next, depth + 1) : undefined;
  }

  /** A value that is a map (literal, or a local): the map. */
  const resolveMap = (value: unknown): Obj | undefined => [resolve(value)].find(isObj);

  /**
   * Replaces ${local.X} in a text with X when X is text (expanded in turn) rather than one whole
   * expression (so ${local.project_number}, a computed value, stays), and ${google_logging_metric.X.name}
   * with that metric's name.
   */
  function expand(text: string, depth = 0): string {
    return text.replace(/\$\{local\.(\w+)\}|\$\{google_logging_metric\.(\w+)\.name\}/g, (whole, local?: string, metric?: string) => {
      const value = local ? locals.get(local) : resources.get(`google_logging_metric.${metric}`)?.body['name'];
      return typeof value === 'string' && expression(value) === undefined && depth < 5 ? expand(value, depth + 1) : whole;
    });
  }

  /** Whether a resource exists with every variable at its default: no count, a number, or "var.X ? 1 : 0". */
  function enabledByDefault(resource: Resource): boolean {
    const count = resource.body['count'];
    if (count === undefined || typeof count === 'number') return count === undefined || count > 0;
    const flag = /^var\.(\w+) \? 1 : 0$/.exec(expression(count) ?? '')?.[1];
    assert.ok(flag, `${resource.address}: cannot evaluate count = ${JSON.stringify(count)}; write it as "var.X ? 1 : 0"`);
    const value = variableDefault(flag);
    assert.equal(typeof value, 'boolean', `${resource.address}: variable ${flag} used as count switch must default to true or false`);
    return value === true;
  }

  /** The functions; env is service_config.environment_variables when it is a map (literal or local). */
  const functions = ofType('google_cloudfunctions2_function').map((resource) => {
    const [build, service, trigger] = ['build_config', 'service_config', 'event_trigger'].map((key) => block(resource.body, key));
    return { resource, entryPoint: String(build?.['entry_point'] ?? ''), build, service, trigger, env: resolveMap(service?.['environment_variables']) };
  });

  function functionByEntry(entryPoint: string) {
    const found = functions.filter((fn) => fn.entryPoint === entryPoint);
    assert.equal(found.length, 1, `expected exactly one google_cloudfunctions2_function with entry_point = "${entryPoint}", found ${found.length}`);
    return found[0]!;
  }

  /** The IAM member "serviceAccount:${google_service_account.X.email}" of a value that must be such an email. */
  function serviceAccountMember(value: unknown, what: string): string {
    const address = referencedAddress(value);
    if (!address?.startsWith('google_service_account.') || !expression(value)?.endsWith('.email') || !resources.has(address)) {
      assert.fail(`${what} must be the email of a google_service_account declared here (a dedicated identity), got ${JSON.stringify(value)}`);
    }
    return `serviceAccount:\${${address}.email}`;
  }

  /** The permissions of a role that is a google_project_iam_custom_role declared here, else undefined. */
  function customRolePermissions(role: string): string[] | undefined {
    const custom = resources.get(referencedAddress(role) ?? '');
    if (custom?.type !== 'google_project_iam_custom_role') return undefined;
    const permissions = custom.body['permissions'];
    return Array.isArray(permissions) ? permissions.map(String) : [];
  }

  /** Every IAM grant, with for_each expanded (each.value / each.key substituted). */
  function iamBindings() {
    return [...resources.values()]
      .filter((resource) => /_iam_(member|binding|policy)$/.test(resource.type))
      .flatMap(({ address, type, body }) => {
        assert.ok(!type.endsWith('_iam_policy'), `${address}: authoritative *_iam_policy resources would wipe grants made elsewhere; use *_iam_member`);
        const forEach = body['for_each'];
        const map = forEach === undefined ? undefined : resolveMap(forEach);
        assert.ok(forEach === undefined || map, `${address}: cannot expand for_each = ${JSON.stringify(forEach)}; use a literal map or a local map`);
        const bound = body['members'];
        const members: unknown[] = type.endsWith('_iam_binding') ? (Array.isArray(bound) ? bound : []) : [body['member']];
        return (map ? Object.entries(map) : [undefined]).flatMap((instance) => {
          const substitute = (value: unknown) => {
            const text = typeof value === 'string' ? value : JSON.stringify(value);
            return instance ? text.replaceAll('${each.value}', String(instance[1])).replaceAll('${each.key}', instance[0]) : text;
          };
          return members.map((member) => ({ address, type, role: substitute(body['role']), member: substitute(member), body }));
        });
      });
  }

  const logMetrics = ofType('google_logging_metric').map(({ address, body }) => {
    const descriptor = block(body, 'metric_descriptor');
    return {
      address,
      name: String(body['name']),
      /** Expanded (see expand). */
      filter: expand(String(body['filter'] ?? '')),
      valueType: String(descriptor?.['value_type'] ?? ''),
      valueExtractor: typeof body['value_extractor'] === 'string' ? body['value_extractor'] : undefined,
      labelExtractors: Object.fromEntries(entries(body['label_extractors']).map(([label, extractor]) => [label, String(extractor)])),
      labels: blocks(descriptor, 'labels').map((label) => String(label['key'])),
      bucketOptions: block(body, 'bucket_options'),
    };
  });

  return {
    files, resources, variables, locals, outputs, terraformBlocks: files.flatMap(({ json }) => blocks(json, 'terraform')),
    ofType, variableDefault, resolve, expand, enabledByDefault, functions, functionByEntry, serviceAccountMember, customRolePermissions, iamBindings, logMetrics,
    /** Entry point → the Terraform expression of its Cloud Run service name, e.g. ${google_cloudfunctions2_function.dispatch.name}. */
    serviceOfEntryPoint: new Map(functions.map((fn) => [fn.entryPoint, `\${${fn.resource.address}.name}`])),
  };
}
