/**
 * Offline checks of terraform/ (no terraform binary, no provider download): every file parses, and
 * the configuration agrees with the code it deploys — environment variables, entry points of the
 * build, topic/queue names and defaults, Firestore indexes and TTL field, least-privilege IAM.
 * terraform/ is read as data by test/support/terraform.ts (@cdktf/hcl2json).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  DEFAULT_EVENTS_TOPIC,
  DEFAULT_OPERATIONS_TOPIC,
  DEFAULT_TASKS_LOCATION,
  DEFAULT_TASKS_QUEUE,
  DEPLOYED_ENV_VARS,
  SecretsSource,
  loadConfig,
} from '../../functions/src/config/runtime-config.ts';
import {
  ACCOUNTS,
  DELIVERIES,
  DELIVERY_EXPIRY_FIELD,
  DELIVERY_UNINDEXED_FIELDS,
  EVENT_CLAIM_EXPIRY_FIELD,
  IDEMPOTENCY_KEY_EXPIRY_FIELD,
  IDEMPOTENCY_KEYS,
  EVENT_CLAIMS,
  INDEXED_QUERIES,
  WEBHOOKS,
  WEBHOOKS_BY_EVENT_TYPE,
} from '../../functions/src/firestore/firestore-layout.ts';
import { CLAIM_LEASE_MS } from '../../functions/src/delivery/lease.ts';
import type { IndexedQuery } from '../../functions/src/firestore/firestore-layout.ts';
import { SECRET_PREFIX } from '../../functions/src/secrets/secret-manager-secret-store.ts';
import { block, blocks, expression, isObj, loadTerraform, parseFile, referencedAddress, strings, targets, TERRAFORM_DIR, type Binding, type Obj, type Resource } from '../support/terraform.ts';

const BUILT_INDEX = fileURLToPath(new URL('../../build/functions/index.js', import.meta.url));

/** Entry points, as registered by the code and named in functions.tf. */
const DISPATCH_ENTRY = 'dispatchEvent';
const WORKER_ENTRY = 'retryWorker';
const VALIDATION_ENTRY = 'validateWebhook';
const REPAIR_ENTRY = 'repairDeliveries';
const DEAD_LETTER_ENTRY = 'deadLetterNotify';

/** APIs the issue lists as required. */
const REQUIRED_APIS = [
  'cloudscheduler.googleapis.com',
  'cloudfunctions.googleapis.com',
  'run.googleapis.com',
  'eventarc.googleapis.com',
  'pubsub.googleapis.com',
  'firestore.googleapis.com',
  'cloudtasks.googleapis.com',
  'cloudbuild.googleapis.com',
  'artifactregistry.googleapis.com',
  'secretmanager.googleapis.com',
  'iam.googleapis.com',
];

const PRIMITIVE_ROLE = /roles\/(owner|editor|viewer)\b/;
/** What the rate-limited webhooks' own queues need (tasks/cloud-tasks-retry-scheduler.ts): no queue delete. */
const RATE_LIMITED_QUEUE_PERMISSIONS = ['cloudtasks.queues.create', 'cloudtasks.queues.get', 'cloudtasks.queues.update', 'cloudtasks.tasks.create', 'cloudtasks.tasks.get'];
/** Permissions a custom role may hold: the secret store lists (and the api writes) an account's secret ids, and the queues above. */
const CUSTOM_ROLE_PERMISSIONS = ['secretmanager.secrets.list', 'secretmanager.secrets.create', 'secretmanager.versions.add', ...RATE_LIMITED_QUEUE_PERMISSIONS];
/** Permissions only the management API's identity may hold (it writes signing secrets). */
const API_ONLY_PERMISSIONS = ['secretmanager.secrets.create', 'secretmanager.versions.add'];
const API_ENTRY = 'api';
const PUBLIC_MEMBER = /\ball(Authenticated)?Users\b/;

const { files: parsed, resources, variables, locals, outputs, terraformBlocks, functions, ofType, variableDefault, resolve, expand, enabledByDefault, functionByEntry, serviceAccountMember, customRolePermissions, iamBindings } = await loadTerraform();
const tfvarsExample = await parseFile('terraform.tfvars.example');

// --- Checks --------------------------------------------------------------------------------------

describe('terraform/ parses (HCL via @cdktf/hcl2json)', () => {
  it('has .tf files', () => {
    assert.ok(parsed.length > 0, `no .tf files in ${TERRAFORM_DIR}`);
  });

  for (const { file, error } of parsed) {
    it(`${file} parses`, () => {
      assert.equal(error, undefined, `terraform/${file} does not parse: ${error}`);
    });
  }

  it('terraform.tfvars.example parses and sets only declared variables', () => {
    assert.equal(tfvarsExample.error, undefined, `terraform/terraform.tfvars.example does not parse: ${tfvarsExample.error}`);
    const undeclared = Object.keys(tfvarsExample.json ?? {}).filter((name) => !variables.has(name));
    assert.deepEqual(undeclared, [], `terraform.tfvars.example sets variables variables.tf does not declare: ${undeclared.join(', ')}`);
    assert.ok(tfvarsExample.json?.['project_id'], 'terraform.tfvars.example must show project_id, the one required input');
  });
});

describe('providers and variables', () => {
  it('pins hashicorp/google and hashicorp/archive', () => {
    const providers = Object.assign({}, ...terraformBlocks.flatMap((tf) => blocks(tf, 'required_providers'))) as Obj;
    for (const [name, source] of [
      ['google', 'hashicorp/google'],
      ['archive', 'hashicorp/archive'],
    ] as const) {
      const provider = providers[name];
      assert.ok(isObj(provider), `required_providers has no ${name} entry`);
      assert.equal(provider['source'], source, `provider ${name} must come from ${source}`);
      assert.match(String(provider['version'] ?? ''), /\d/, `provider ${name} has no version constraint`);
    }
    assert.ok(terraformBlocks.some((tf) => typeof tf['required_version'] === 'string'), 'terraform { required_version } is missing');
  });

  it('every variable has a description and a type', () => {
    const missing = [...variables].filter(([, body]) => !String(body['description'] ?? '').trim() || body['type'] === undefined);
    assert.deepEqual(missing.map(([name]) => name), [], 'variables without description or type');
  });

  it('the only variable without a default is project_id', () => {
    const required = [...variables].filter(([, body]) => !('default' in body)).map(([name]) => name);
    assert.deepEqual(required, ['project_id'], `a platform team sets a project id (and optionally a region), nothing else; required: ${required.join(', ')}`);
  });
});

describe('origin lists: Terraform refuses at plan what the functions refuse at start', () => {
  const samples = [
    'https://app.example.com', 'http://127.0.0.1:8080', 'https://app.example.com/', 'HTTPS://App.Example.com:443',
    'https:', "'self'", 'https://app.example.com; report-uri https://evil.example', 'https://app.example.com/embed',
    'https://app.example.com?x=1', 'app.example.com', 'ftp://app.example.com', 'https://user@app.example.com', 'https://*.example.com',
  ];
  for (const [variable, env] of [['portal_frame_ancestors', 'PORTAL_FRAME_ANCESTORS'], ['api_cors_origins', 'API_CORS_ORIGINS']] as const) {
    it(`${variable}: its validation's pattern and ${env}'s check agree on each sample`, () => {
      const validation = (variables.get(variable)?.['validation'] as Array<{ condition: string }> | undefined)?.[0];
      assert.ok(validation, `${variable} has a validation block`);
      assert.match(validation.condition, new RegExp(`split\\(",", var\\.${variable}\\)`), 'each comma-separated item is checked');
      // The HCL string literal inside regex("…"): its escapes undone, it is the RE2 pattern (the same in JavaScript here).
      const literal = /regex\("((?:[^"\\]|\\.)*)"/.exec(validation.condition)?.[1];
      assert.ok(literal, validation.condition);
      const pattern = new RegExp(literal.replace(/\\(.)/g, '$1'));
      for (const sample of samples) {
        let started = true;
        try {
          loadConfig({ [env]: sample });
        } catch {
          started = false;
        }
        assert.equal(pattern.test(sample), started, `${sample}: Terraform ${pattern.test(sample) ? 'takes' : 'refuses'} it, the functions ${started ? 'start' : 'stop'}`);
      }
    });
  }
});

describe('the delivery lease and the function timeouts', () => {
  // The functions that hold a claim while they run (dispatch, retry worker) and the variables of their timeouts.
  const holders = [DISPATCH_ENTRY, WORKER_ENTRY];
  const timeoutVariables = holders.map((entry) => /^var\.(\w+)$/.exec(expression(functionByEntry(entry).service?.['timeout_seconds']) ?? '')?.[1]);
  /** The lease variable's validation conditions, evaluated with the given values (the others at their defaults). */
  const leaseAccepted = (values: Record<string, number>): boolean =>
    blocks(variables.get('delivery_lease_seconds'), 'validation').every((validation) => {
      const condition = expression(validation['condition']) ?? '';
      const substituted = condition.replace(/var\.(\w+)/g, (_, name: string) => String(values[name] ?? variableDefault(name))).replace(/\bmax\(/g, 'Math.max(');
      // Only numbers, arithmetic, comparisons and max() may be left to evaluate.
      assert.match(substituted.replace(/Math\.max/g, ''), /^[\d\s+\-*()<>=&|,.]+$/, `cannot evaluate the condition: ${condition}`);
      return Boolean(new Function(`return (${substituted});`)());
    });

  it('the functions that hold claims take their timeout from variables', () => {
    assert.ok(timeoutVariables.every(Boolean), `timeout_seconds of ${holders.join(', ')} must be var.X, got ${timeoutVariables.join(', ')}`);
  });

  it('by default the lease outlasts those timeouts by at least 30 s, and matches CLAIM_LEASE_MS', () => {
    const lease = Number(variableDefault('delivery_lease_seconds'));
    for (const name of timeoutVariables) assert.ok(lease >= Number(variableDefault(name!)) + 30, `delivery_lease_seconds (${lease}) < ${name} + 30`);
    assert.equal(lease * 1000, CLAIM_LEASE_MS);
    assert.equal(leaseAccepted({}), true, 'the defaults must pass the validation');
  });

  it('the validation refuses a lease shorter than either timeout plus 30 s', () => {
    for (const name of timeoutVariables) {
      assert.equal(leaseAccepted({ [name!]: 300, delivery_lease_seconds: 329 }), false, `a 329 s lease with ${name} = 300 must be refused`);
      assert.equal(leaseAccepted({ [name!]: 300, delivery_lease_seconds: 330 }), true, `a 330 s lease with ${name} = 300 is enough`);
    }
    assert.equal(leaseAccepted({ delivery_lease_seconds: 90 }), false, 'the old 90 s default is shorter than the 120 s timeouts');
  });
});

describe('the runtime is a validated variable', () => {
  const RUNTIMES = ['nodejs22', 'nodejs24'];
  const variable = () => {
    const body = variables.get('function_runtime');
    assert.ok(body, 'variable "function_runtime" is not declared');
    return body;
  };
  /** The list of `contains([...], var.function_runtime)`, the one condition form the check reads. */
  const allowed = (): string[] => {
    const conditions = blocks(variable(), 'validation').map((v) => expression(v['condition']) ?? '');
    const match = conditions.map((c) => /^contains\((\[[^\]]*\]),\s*var\.function_runtime\)$/.exec(c)).find(Boolean);
    assert.ok(match?.[1], `function_runtime needs validation { condition = contains([...], var.function_runtime) }, found: ${conditions.join('; ')}`);
    return JSON.parse(match[1]) as string[];
  };

  it('defaults to nodejs22 and accepts exactly nodejs22 and nodejs24', () => {
    assert.equal(variable()['default'], 'nodejs22');
    assert.deepEqual([...allowed()].sort(), RUNTIMES);
  });

  const cases = [
    { value: 'nodejs22', accepted: true },
    { value: 'nodejs24', accepted: true },
    { value: 'nodejs20', accepted: false },
    { value: 'nodejs26', accepted: false },
    { value: 'NODEJS22', accepted: false },
    { value: '', accepted: false },
  ];
  for (const { value, accepted } of cases) {
    it(`the validation ${accepted ? 'accepts' : 'refuses'} ${JSON.stringify(value)}`, () => {
      assert.equal(allowed().includes(value), accepted);
    });
  }

  it('every runtime it accepts is a Node.js major the suite runs on (package.json engines and devDependencies)', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { engines?: { node?: string }; devDependencies?: Record<string, string> };
    const engines = String(pkg.engines?.node ?? '');
    const devMajors = [/^(\d+)\./.exec(pkg.devDependencies?.['node'] ?? '')?.[1], /^npm:node@(\d+)\./.exec(pkg.devDependencies?.['node24'] ?? '')?.[1]];
    for (const runtime of allowed()) {
      const major = runtime.replace('nodejs', '');
      assert.match(engines, new RegExp(`(^|[^\\d])${major}([^\\d]|$)`), `package.json engines.node (${engines}) does not name Node ${major}`);
      assert.ok(devMajors.includes(major), `no devDependency installs Node ${major} (node, node24: ${devMajors.join(', ')})`);
    }
  });
});

describe("names and defaults match the code's", () => {
  const topic = () => {
    const topics = ofType('google_pubsub_topic').filter((t) => resolve(t.body['name']) === resolve('${var.events_topic_name}'));
    assert.equal(topics.length, 1, 'expected one google_pubsub_topic named var.events_topic_name');
    return topics[0]!;
  };
  const queue = () => {
    const queues = ofType('google_cloud_tasks_queue');
    assert.equal(queues.length, 1, `expected one google_cloud_tasks_queue, found ${queues.length}`);
    return queues[0]!;
  };

  it('events topic default is DEFAULT_EVENTS_TOPIC', () => {
    assert.equal(resolve(topic().body['name']), DEFAULT_EVENTS_TOPIC, 'the events topic default drifted from DEFAULT_EVENTS_TOPIC in runtime-config.ts');
  });

  it('tasks queue default is DEFAULT_TASKS_QUEUE', () => {
    assert.equal(resolve(queue().body['name']), DEFAULT_TASKS_QUEUE, 'the queue name default drifted from DEFAULT_TASKS_QUEUE in runtime-config.ts');
  });

  it('tasks queue location default is DEFAULT_TASKS_LOCATION', () => {
    assert.equal(resolve(queue().body['location']), DEFAULT_TASKS_LOCATION, 'the queue location (region default) drifted from DEFAULT_TASKS_LOCATION in runtime-config.ts');
  });

  it('with every variable at its default, the deployed environment gives the code defaults', () => {
    const fn = functionByEntry(DISPATCH_ENTRY);
    const env = fn.env ?? {};
    const baseline = loadConfig({});
    const drifted: string[] = [];
    for (const [name, value] of Object.entries(env)) {
      if (name === 'SECRETS_SOURCE') continue; // deliberately differs: production reads Secret Manager
      const resolved = resolve(value);
      if (typeof resolved !== 'string' && typeof resolved !== 'number' && typeof resolved !== 'boolean') continue;
      try {
        assert.deepEqual(loadConfig({ [name]: String(resolved) }), baseline);
      } catch {
        drifted.push(`${name}=${String(resolved)}`);
      }
    }
    assert.deepEqual(drifted, [], 'Terraform defaults that differ from the defaults in runtime-config.ts (change one or the other)');
  });
});

describe('functions', () => {
  for (const fn of functions) {
    const label = `${fn.resource.address} (${fn.entryPoint || 'no entry_point'})`;

    it(`${label} sets exactly DEPLOYED_ENV_VARS`, () => {
      const env = fn.env;
      assert.ok(env, `${label}: service_config.environment_variables must be a literal map or a local map`);
      const set = Object.keys(env).sort();
      const expected: string[] = [...DEPLOYED_ENV_VARS].sort();
      const missing = expected.filter((name) => !set.includes(name));
      const extra = set.filter((name) => !expected.includes(name));
      assert.deepEqual(
        { missing, extra },
        { missing: [], extra: [] },
        `${label}: environment variables drifted from DEPLOYED_ENV_VARS in runtime-config.ts`,
      );
      assert.equal(block(fn.build, 'environment_variables'), undefined, `${label}: no build-time environment variables expected`);
    });

    it(`${label} runs var.function_runtime under its own service account`, () => {
      assert.equal(expression(fn.build?.['runtime']), 'var.function_runtime', `${label}: build_config.runtime must be var.function_runtime (one runtime for every function), got ${String(fn.build?.['runtime'])}`);
      assert.ok(fn.entryPoint, `${label}: build_config.entry_point is missing`);
      assert.ok(block(fn.build, 'source') && block(block(fn.build, 'source'), 'storage_source'), `${label}: source must be the uploaded storage_source`);
      serviceAccountMember(fn.service?.['service_account_email'], `${label} service_config.service_account_email`);
    });
  }

  it('each function runs as a different service account', () => {
    const accounts = functions.map((fn) => String(fn.service?.['service_account_email']));
    assert.equal(new Set(accounts).size, accounts.length, `functions share a service account: ${accounts.join(', ')}`);
  });

  it('the environment is wired to the resources it names', () => {
    for (const fn of functions) {
      const env = fn.env ?? {};
      const label = fn.resource.address;
      const topicAddress = referencedAddress(env['EVENTS_TOPIC']);
      assert.ok(
        topicAddress?.startsWith('google_pubsub_topic.') && expression(env['EVENTS_TOPIC'])?.endsWith('.name'),
        `${label}: EVENTS_TOPIC must be a google_pubsub_topic's name`,
      );
      assert.equal(
        referencedAddress(functionByEntry(DISPATCH_ENTRY).trigger?.['pubsub_topic']),
        topicAddress,
        `${label}: EVENTS_TOPIC is not the topic the dispatcher is triggered by`,
      );
      const queueAddress = referencedAddress(env['TASKS_QUEUE']);
      if (!queueAddress?.startsWith('google_cloud_tasks_queue.') || !expression(env['TASKS_QUEUE'])?.endsWith('.name')) {
        assert.fail(`${label}: TASKS_QUEUE must be the google_cloud_tasks_queue's name`);
      }
      assert.ok(
        expression(env['TASKS_LOCATION']) === `${queueAddress}.location` || resolve(env['TASKS_LOCATION']) === resolve(resources.get(queueAddress)?.body['location']),
        `${label}: TASKS_LOCATION must be the queue's location`,
      );
      assert.equal(expression(env['GOOGLE_CLOUD_PROJECT']), 'var.project_id', `${label}: GOOGLE_CLOUD_PROJECT must be var.project_id`);
      assert.equal(env['ALLOW_LOOPBACK_DESTINATIONS'], 'false', `${label}: ALLOW_LOOPBACK_DESTINATIONS must be "false" in production`);
      assert.equal(env['SECRETS_SOURCE'], 'secret-manager', `${label}: SECRETS_SOURCE must be "secret-manager" in production`);
      assert.ok((SecretsSource as readonly string[]).includes('secret-manager'), 'runtime-config.ts no longer knows the secret-manager source');
      const worker = functionByEntry(WORKER_ENTRY);
      // Either a reference to the worker (its url/uri) or a local built from the worker's name.
      const urlLocal = /^local\.(\w+)$/.exec(expression(env['RETRY_WORKER_URL']) ?? '')?.[1];
      const workerUrl = JSON.stringify(urlLocal ? locals.get(urlLocal) : env['RETRY_WORKER_URL']);
      assert.ok(
        workerUrl.includes(worker.resource.address) || workerUrl.includes(String(expression(worker.resource.body['name']))),
        `${label}: RETRY_WORKER_URL must be the retry worker's URL (reference it, or build it from its name), got ${workerUrl}`,
      );
    }
  });

  it('loadConfig accepts the deployed environment', () => {
    const env = functionByEntry(DISPATCH_ENTRY).env ?? {};
    const sample: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) {
      const resolved = resolve(value);
      sample[name] = resolved === undefined ? `computed-${name.toLowerCase()}` : String(resolved);
    }
    const config = loadConfig(sample);
    assert.equal(config.secrets.source, 'secret-manager');
    assert.equal(config.allowLoopbackDestinations, false);
  });

  it(`${DISPATCH_ENTRY} is triggered by the events topic with RETRY_POLICY_RETRY`, () => {
    const fn = functionByEntry(DISPATCH_ENTRY);
    assert.ok(fn.trigger, `${fn.resource.address}: no event_trigger`);
    assert.equal(fn.trigger['event_type'], 'google.cloud.pubsub.topic.v1.messagePublished', 'dispatch trigger must be a Pub/Sub messagePublished trigger');
    const topic = resources.get(referencedAddress(fn.trigger['pubsub_topic']) ?? '');
    assert.equal(topic?.type, 'google_pubsub_topic', 'dispatch trigger must name a google_pubsub_topic declared here');
    assert.equal(resolve(topic.body['name']), DEFAULT_EVENTS_TOPIC, 'dispatch trigger is not on the events topic');
    assert.equal(fn.trigger['retry_policy'], 'RETRY_POLICY_RETRY', 'dispatch trigger must retry failed events (RETRY_POLICY_RETRY)');
    const trigger = serviceAccountMember(fn.trigger['service_account_email'], 'dispatch event_trigger.service_account_email');
    const invokers = iamBindings().filter((b) => b.role === 'roles/run.invoker' && targets(b, fn.resource.address));
    assert.ok(invokers.some((b) => b.member === trigger), `the Eventarc trigger account ${trigger} needs roles/run.invoker on the dispatch function's service`);
  });

  it(`${WORKER_ENTRY} is HTTP-only and only the tasks invoker may call it`, () => {
    const fn = functionByEntry(WORKER_ENTRY);
    assert.equal(fn.trigger, undefined, `${fn.resource.address}: the retry worker is an HTTP function, it must have no event_trigger`);
    const ingress = resolve(fn.service?.['ingress_settings']);
    assert.ok(ingress === 'ALLOW_INTERNAL_ONLY' || ingress === 'ALLOW_INTERNAL_AND_GCLB', `${fn.resource.address}: ingress must default to internal (Cloud Tasks), got ${String(ingress)}`);
    const grants = iamBindings().filter((b) => targets(b, fn.resource.address));
    assert.equal(grants.length, 1, `exactly one IAM grant may target the retry worker, found: ${grants.map((b) => `${b.address} ${b.role} ${b.member}`).join('; ')}`);
    const [grant] = grants;
    assert.equal(grant?.role, 'roles/run.invoker', 'the grant on the retry worker must be roles/run.invoker');
    const invoker = /^serviceAccount:\$\{(google_service_account\.\w+)\.email\}$/.exec(grant?.member ?? '')?.[1];
    assert.ok(invoker, `the retry worker's invoker must be a google_service_account declared here, got ${grant?.member}`);
    const env = fn.env ?? {};
    assert.equal(
      referencedAddress(env['TASKS_INVOKER_SERVICE_ACCOUNT']),
      invoker,
      'TASKS_INVOKER_SERVICE_ACCOUNT (the OIDC identity of the tasks) must be the account holding run.invoker on the retry worker',
    );
  });

  it(`${REPAIR_ENTRY} is HTTP-only, run by a Cloud Scheduler job whose identity alone may call it, and reads no secrets`, () => {
    const fn = functionByEntry(REPAIR_ENTRY);
    assert.equal(fn.trigger, undefined, `${fn.resource.address}: the repair sweep is an HTTP function, it must have no event_trigger`);
    assert.equal(resolve(fn.service?.['ingress_settings']), 'ALLOW_INTERNAL_ONLY', `${fn.resource.address}: ingress must be internal (Cloud Scheduler)`);
    const grants = iamBindings().filter((b) => targets(b, fn.resource.address));
    assert.equal(grants.length, 1, `exactly one IAM grant may target the repair function, found: ${grants.map((b) => `${b.address} ${b.role} ${b.member}`).join('; ')}`);
    assert.equal(grants[0]?.role, 'roles/run.invoker');
    const jobs = ofType('google_cloud_scheduler_job').filter((job) => JSON.stringify(job.body).includes(fn.resource.address));
    assert.equal(jobs.length, 1, 'expected one google_cloud_scheduler_job aimed at the repair function');
    const target = block(jobs[0]!.body, 'http_target');
    assert.equal(expression(target?.['uri']), `${fn.resource.address}.url`, 'the job must POST to the repair function URL');
    assert.equal(target?.['http_method'], 'POST');
    const oidc = block(target, 'oidc_token');
    const caller = serviceAccountMember(oidc?.['service_account_email'], 'the job oidc_token.service_account_email');
    assert.equal(grants[0]?.member, caller, "the job's OIDC identity must be the one account holding run.invoker on the repair function");
    assert.equal(expression(oidc?.['audience']), `${fn.resource.address}.url`, 'the OIDC audience must be the function URL');
    const callerGrants = iamBindings().filter((b) => b.member === caller);
    assert.deepEqual(callerGrants.map((b) => b.role), ['roles/run.invoker'], "the scheduler's identity may only invoke the repair function");

    const runtime = serviceAccountMember(fn.service?.['service_account_email'], `${REPAIR_ENTRY} service account`);
    const held = iamBindings().filter((b) => b.member === runtime);
    const invokerAddress = referencedAddress(fn.env?.['TASKS_INVOKER_SERVICE_ACCOUNT']);
    const queue = ofType('google_cloud_tasks_queue')[0]!;
    assert.ok(held.some((b) => b.role === 'roles/datastore.user'), `${REPAIR_ENTRY}: needs roles/datastore.user`);
    assert.ok(held.some((b) => b.role === 'roles/cloudtasks.enqueuer' && targets(b, queue.address)), `${REPAIR_ENTRY}: needs roles/cloudtasks.enqueuer on the retry queue`);
    assert.ok(held.some((b) => b.role === 'roles/iam.serviceAccountUser' && b.type === 'google_service_account_iam_member' && targets(b, invokerAddress ?? '?')), `${REPAIR_ENTRY}: needs actAs on the tasks invoker only`);
    // Its recoveries enqueue on rate-limited webhooks' queues too (and GetTask before a takeover).
    const roles = held.map((b) => customRolePermissions(b.role)?.join('+') ?? b.role).sort();
    assert.deepEqual(roles, ['roles/cloudtasks.enqueuer', 'roles/datastore.user', 'roles/iam.serviceAccountUser', 'roles/pubsub.publisher', RATE_LIMITED_QUEUE_PERMISSIONS.join('+')].sort(), `${REPAIR_ENTRY}: roles beyond what it needs (it sends nothing, so no secrets)`);
  });

  it(`${VALIDATION_ENTRY} listens to writes of webhook documents`, () => {
    const fn = functionByEntry(VALIDATION_ENTRY);
    assert.ok(fn.trigger, `${fn.resource.address}: no event_trigger`);
    assert.equal(fn.trigger['event_type'], 'google.cloud.firestore.document.v1.written');
    const filters = blocks(fn.trigger, 'event_filters');
    const byAttribute = new Map(filters.map((f) => [String(f['attribute']), f]));
    assert.equal(resolve(byAttribute.get('database')?.['value']), '(default)', 'the Firestore trigger must filter database = (default)');
    const document = byAttribute.get('document');
    assert.equal(document?.['value'], `${ACCOUNTS}/{accountId}/${WEBHOOKS}/{webhookId}`, 'the Firestore trigger path drifted from firestore-layout.ts');
    assert.equal(document?.['operator'], 'match-path-pattern', 'the document filter needs operator = "match-path-pattern"');
    assert.equal(expression(fn.trigger['trigger_region']), 'var.firestore_location', 'a Firestore trigger must listen in the database location (var.firestore_location)');
  });

  it('entry points of the functions enabled by default are exported by build/functions/index.js', async (t) => {
    assert.ok(existsSync(BUILT_INDEX), 'build/functions/index.js does not exist: run npm run build first');
    process.env['METADATA_SERVER_DETECTION'] = 'none';
    const built = (await import(pathToFileURL(BUILT_INDEX).href)) as Record<string, unknown>;
    const missing: string[] = [];
    for (const fn of functions) {
      const exported = typeof built[fn.entryPoint] === 'function';
      if (enabledByDefault(fn.resource)) {
        if (!exported) missing.push(`${fn.entryPoint} (${fn.resource.address})`);
      } else if (exported) {
        t.diagnostic(`${fn.entryPoint} is exported now: switch on ${fn.resource.address} (its count variable's default) in terraform/variables.tf`);
      }
    }
    assert.deepEqual(missing, [], `entry points Terraform deploys but build/functions/index.js does not export as functions: ${missing.join(', ')}`);
  });
});

describe('Cloud Tasks queue and APIs', () => {
  it('the queue has rate limits from variables and a bounded retry config', () => {
    const [queue] = ofType('google_cloud_tasks_queue');
    assert.ok(queue, 'no google_cloud_tasks_queue');
    const limits = block(queue.body, 'rate_limits');
    for (const key of ['max_dispatches_per_second', 'max_concurrent_dispatches']) {
      assert.match(String(expression(limits?.[key]) ?? ''), /^var\./, `rate_limits.${key} must be a variable`);
    }
    const retry = block(queue.body, 'retry_config');
    const attempts = Number(resolve(retry?.['max_attempts']));
    assert.ok(Number.isInteger(attempts) && attempts >= 1, `retry_config.max_attempts must be a finite number of crash retries (the application owns the schedule), got ${String(retry?.['max_attempts'])}`);
  });

  it('enables the required APIs', () => {
    const services = ofType('google_project_service').flatMap((resource) => {
      const forEach = /^toset\(local\.(\w+)\)$/.exec(expression(resource.body['for_each']) ?? '');
      if (forEach?.[1]) {
        const list = locals.get(forEach[1]);
        return Array.isArray(list) ? list.map(String) : [];
      }
      return [String(resolve(resource.body['service']))];
    });
    const missing = REQUIRED_APIS.filter((api) => !services.includes(api));
    assert.deepEqual(missing, [], `APIs not enabled by google_project_service: ${missing.join(', ')}`);
  });

  it('outputs the topic, the function names and URLs, and the queue', () => {
    const text = JSON.stringify([...outputs.values()].map((o) => o['value']));
    const wanted = [
      ...ofType('google_pubsub_topic').filter((t) => resolve(t.body['name']) === DEFAULT_EVENTS_TOPIC).map((t) => t.address),
      functionByEntry(DISPATCH_ENTRY).resource.address,
      functionByEntry(WORKER_ENTRY).resource.address,
      ...ofType('google_cloud_tasks_queue').map((q) => q.address),
    ];
    const missing = wanted.filter((address) => !text.includes(address));
    assert.deepEqual(missing, [], `no output mentions ${missing.join(', ')}`);
  });
});

describe('log-based metrics', () => {
  it("counts filtered events from the dispatcher's log line (filtered: true, webhookId), by webhook", () => {
    const metric = resources.get('google_logging_metric.filtered_events');
    assert.ok(metric, 'no google_logging_metric.filtered_events');
    const filter = String(metric.body['filter']);
    assert.match(filter, /jsonPayload\.filtered=true/);
    assert.ok(filter.includes(`${functionByEntry(DISPATCH_ENTRY).resource.address}.name`), `the metric reads the dispatcher's logs: ${filter}`);
    const extractors = metric.body['label_extractors'] as Obj | undefined;
    assert.equal(extractors?.['webhook_id'], 'EXTRACT(jsonPayload.webhookId)');
  });
});

describe('Firestore', () => {
  const indexes = ofType('google_firestore_index');
  const fieldsOf = (index: Resource) => {
    const fields = blocks(index.body, 'fields').map((f) => ({
      fieldPath: String(f['field_path']),
      ...(f['order'] !== undefined ? { order: f['order'] } : {}),
      ...(f['array_config'] !== undefined ? { arrayConfig: f['array_config'] } : {}),
    }));
    // Firestore appends __name__ itself; declaring it explicitly is allowed.
    if (fields.at(-1)?.fieldPath === '__name__') fields.pop();
    return fields;
  };
  const matches = (query: IndexedQuery, index: Resource): boolean => {
    try {
      assert.equal(index.body['collection'], query.collectionGroup);
      assert.equal(index.body['query_scope'] ?? 'COLLECTION', query.queryScope);
      assert.deepEqual(fieldsOf(index), query.fields.map((f) => ({ ...f })));
      return true;
    } catch {
      return false;
    }
  };
  const describeIndex = (index: Resource) =>
    `${index.address} (${String(index.body['collection'])}, ${String(index.body['query_scope'] ?? 'COLLECTION')}: ${JSON.stringify(fieldsOf(index))})`;

  for (const query of INDEXED_QUERIES.filter((q) => q.needsCompositeIndex)) {
    it(`composite index for: ${query.usedBy}`, () => {
      assert.ok(
        indexes.some((index) => matches(query, index)),
        `no google_firestore_index on ${query.collectionGroup} (${query.queryScope}) with fields ${JSON.stringify(query.fields)}; declared: ${indexes.map(describeIndex).join('; ') || 'none'}`,
      );
    });
  }

  it('no composite index that no query uses', () => {
    const unused = indexes.filter((index) => !INDEXED_QUERIES.some((query) => query.needsCompositeIndex && matches(query, index)));
    assert.deepEqual(unused.map(describeIndex), [], 'composite indexes that match no needsCompositeIndex query of INDEXED_QUERIES (firestore-layout.ts)');
  });

  it("the dispatcher's query is listed and needs no composite index", () => {
    assert.ok(INDEXED_QUERIES.includes(WEBHOOKS_BY_EVENT_TYPE), "INDEXED_QUERIES no longer lists the dispatcher's query");
    assert.equal(WEBHOOKS_BY_EVENT_TYPE.needsCompositeIndex, false, "the dispatcher's query now needs a composite index: declare it (the check above will say which)");
  });

  it('single-field overrides keep the indexes of single-field queries', () => {
    for (const query of INDEXED_QUERIES.filter((q) => !q.needsCompositeIndex)) {
      for (const field of query.fields) {
        for (const override of ofType('google_firestore_field')) {
          if (override.body['collection'] !== query.collectionGroup || override.body['field'] !== field.fieldPath) continue;
          const config = block(override.body, 'index_config');
          if (!config && !Array.isArray(override.body['index_config'])) continue;
          const kept = blocks(config, 'indexes').some(
            (index) =>
              (index['query_scope'] ?? 'COLLECTION') === query.queryScope &&
              (field.arrayConfig ? index['array_config'] === field.arrayConfig : index['order'] !== undefined),
          );
          assert.ok(kept, `${override.address} drops the single-field index "${query.usedBy}" relies on`);
        }
      }
    }
  });

  it('TTL policies on the expiry fields of the delivery log, the event claims and the Idempotency-Keys', () => {
    const declared = [
      { collection: DELIVERIES, field: DELIVERY_EXPIRY_FIELD },
      { collection: EVENT_CLAIMS, field: EVENT_CLAIM_EXPIRY_FIELD },
      { collection: IDEMPOTENCY_KEYS, field: IDEMPOTENCY_KEY_EXPIRY_FIELD },
    ];
    const found = declared.map(({ collection, field }) => {
      const ttl = ofType('google_firestore_field').filter((f) => f.body['collection'] === collection && f.body['field'] === field);
      assert.equal(ttl.length, 1, `expected one google_firestore_field for ${collection}.${field} (firestore-layout.ts)`);
      assert.ok(Array.isArray(ttl[0]?.body['ttl_config']), `${ttl[0]?.address}: needs a ttl_config {} block`);
      return ttl[0];
    });
    const others = ofType('google_firestore_field').filter((f) => f.body['ttl_config'] !== undefined && !found.includes(f));
    assert.deepEqual(others.map((f) => f.address), [], 'TTL policies on fields firestore-layout.ts does not declare as expiry fields');
  });

  it("a delivery record's event and attempts are not indexed, and no query reads them", () => {
    // Each google_firestore_field on the delivery log, per field (a for_each over a literal toset expanded).
    const overrides = ofType('google_firestore_field')
      .filter((f) => f.body['collection'] === DELIVERIES)
      .flatMap((f) => {
        const forEach = /^\$\{toset\(\[(.*)\]\)\}$/.exec(String(f.body['for_each'] ?? ''));
        const fields = forEach ? JSON.parse(`[${forEach[1]}]`) as string[] : [String(f.body['field'])];
        return fields.map((field) => ({ field: String(f.body['field']).replace('${each.value}', field), override: f }));
      });
    for (const field of DELIVERY_UNINDEXED_FIELDS) {
      const found = overrides.filter((o) => o.field === field);
      assert.equal(found.length, 1, `expected one google_firestore_field for ${DELIVERIES}.${field} (DELIVERY_UNINDEXED_FIELDS, firestore-layout.ts)`);
      const config = found[0]!.override.body['index_config'];
      assert.ok(Array.isArray(config) && blocks(block(found[0]!.override.body, 'index_config'), 'indexes').length === 0, `${found[0]!.override.address}: ${field} needs an empty index_config {} (no single-field indexes)`);
      const readers = INDEXED_QUERIES.filter((query) => query.collectionGroup === DELIVERIES && query.fields.some((f) => f.fieldPath === field || f.fieldPath.startsWith(`${field}.`)));
      assert.deepEqual(readers.map((query) => query.usedBy), [], `queries that read ${field}, which is not indexed`);
    }
  });

  it('the database is the native-mode (default) database', () => {
    const databases = ofType('google_firestore_database');
    assert.equal(databases.length, 1, 'expected one google_firestore_database');
    assert.equal(databases[0]?.body['type'], 'FIRESTORE_NATIVE');
    assert.equal(databases[0]?.body['name'], '(default)');
    for (const resource of [...ofType('google_firestore_index'), ...ofType('google_firestore_field')]) {
      assert.equal(resolve(resource.body['database'] ?? '(default)'), '(default)', `${resource.address} must be on the (default) database`);
    }
  });
});

describe('IAM: least privilege', () => {
  it('no primitive role (owner/editor/viewer) anywhere', () => {
    const found: string[] = [];
    for (const { file, json } of parsed) {
      for (const [path, text] of strings(json, '')) if (PRIMITIVE_ROLE.test(text)) found.push(`${file}: ${path} = ${text}`);
    }
    assert.deepEqual(found, [], 'primitive roles are not allowed');
  });

  it('no allUsers / allAuthenticatedUsers member anywhere but run.invoker on the management API', () => {
    const api = functionByEntry(API_ENTRY);
    const allowed = iamBindings().filter((b) => PUBLIC_MEMBER.test(b.member));
    for (const binding of allowed) {
      assert.ok(
        binding.type === 'google_cloud_run_service_iam_member' && binding.role === 'roles/run.invoker' && binding.member === 'allUsers' && targets(binding, api.resource.address),
        `${binding.address}: the only public binding allowed is allUsers run.invoker on the api function (it authenticates every request itself)`,
      );
    }
    assert.equal(allowed.length, 1, 'the api function is public: it authenticates every request itself');
    const found: string[] = [];
    for (const { file, json } of parsed) {
      for (const [path, text] of strings(json, '')) {
        if (PUBLIC_MEMBER.test(text) && !allowed.some((binding) => path.includes(binding.address.split('.')[1]!))) found.push(`${file}: ${path} = ${text}`);
      }
    }
    assert.deepEqual(found, [], 'nothing else may be public');
  });

  it('the management API holds exactly what it needs: Firestore, enqueue, act as the tasks invoker, hookshape-- secrets (read, list, write), its own signing-key secret', () => {
    const fn = functionByEntry(API_ENTRY);
    const member = serviceAccountMember(fn.service?.['service_account_email'], 'api service account');
    const held = iamBindings().filter((b) => b.member === member);
    const roles = held.map((b) => customRolePermissions(b.role)?.join('+') ?? b.role).sort();
    assert.deepEqual(roles, ['roles/cloudtasks.enqueuer', 'roles/datastore.user', 'roles/iam.serviceAccountUser', 'roles/secretmanager.secretAccessor', 'roles/secretmanager.secretAccessor', 'secretmanager.secrets.create+secretmanager.versions.add', 'secretmanager.secrets.list', RATE_LIMITED_QUEUE_PERMISSIONS.join('+')].sort());
    const writer = held.find((b) => customRolePermissions(b.role)?.includes('secretmanager.secrets.create'));
    assert.match(expand(String(block(writer?.body, 'condition')?.['expression'] ?? '')), new RegExp(`/secrets/${SECRET_PREFIX}"\\)$`), 'secret writes are limited to hookshape-- secrets');
    const jwt = held.find((b) => b.type === 'google_secret_manager_secret_iam_member');
    const secretAddress = referencedAddress(jwt?.body['secret_id']);
    assert.equal(resources.get(secretAddress ?? '')?.type, 'google_secret_manager_secret', 'the signing keys are read from a secret declared here, bound on that secret alone');
    const env = fn.env ?? {};
    assert.equal(referencedAddress(env['API_JWT_KEYS_SECRET']), secretAddress, 'API_JWT_KEYS_SECRET names that secret');
    const others = iamBindings().filter((b) => b.member !== member && (customRolePermissions(b.role) ?? []).some((p) => API_ONLY_PERMISSIONS.includes(p)));
    assert.deepEqual(others.map((b) => b.address), [], 'only the api may write secrets');
    const readers = iamBindings().filter((b) => b.type === 'google_secret_manager_secret_iam_member');
    assert.deepEqual(readers.map((b) => b.member), [member], 'only the api reads its signing keys');
  });

  it('the dispatcher and the retry worker hold exactly the roles they need', () => {
    const bindings = iamBindings();
    const invokerAddress = referencedAddress(functionByEntry(WORKER_ENTRY).env?.['TASKS_INVOKER_SERVICE_ACCOUNT']);
    assert.ok(invokerAddress, 'TASKS_INVOKER_SERVICE_ACCOUNT must reference a google_service_account');
    const queue = ofType('google_cloud_tasks_queue')[0];
    for (const entry of [DISPATCH_ENTRY, WORKER_ENTRY]) {
      const fn = functionByEntry(entry);
      const member = serviceAccountMember(fn.service?.['service_account_email'], `${entry} service account`);
      const held = bindings.filter((b) => b.member === member);
      const has = (role: string, check: (b: Binding) => boolean = () => true) => held.some((b) => b.role === role && check(b));
      assert.ok(has('roles/datastore.user'), `${entry}: needs roles/datastore.user (Firestore)`);
      assert.ok(has('roles/cloudtasks.enqueuer', (b) => !queue || b.type !== 'google_cloud_tasks_queue_iam_member' || targets(b, queue.address)), `${entry}: needs roles/cloudtasks.enqueuer on the retry queue`);
      assert.ok(
        has('roles/iam.serviceAccountUser', (b) => b.type === 'google_service_account_iam_member' && targets(b, invokerAddress)),
        `${entry}: needs roles/iam.serviceAccountUser on the tasks invoker account (service-account-level binding) to put its OIDC token on tasks`,
      );
      assert.ok(has('roles/secretmanager.secretAccessor'), `${entry}: needs roles/secretmanager.secretAccessor (conditional) for {{ secrets.NAME }}`);
      assert.ok(
        held.some((b) => customRolePermissions(b.role)?.includes('secretmanager.secrets.list')),
        `${entry}: needs secretmanager.secrets.list (custom role) to find an account's secrets`,
      );
      const queuePermissions = held.flatMap((b) => (b.type === 'google_project_iam_member' ? customRolePermissions(b.role) ?? [] : []));
      assert.deepEqual(RATE_LIMITED_QUEUE_PERMISSIONS.filter((p) => !queuePermissions.includes(p)), [], `${entry}: needs ${RATE_LIMITED_QUEUE_PERMISSIONS.join(', ')} on the project (custom role) for the rate-limited webhooks' queues`);
      const unexpected = held
        .map((b) => b.role)
        .filter((role) => customRolePermissions(role) === undefined)
        .filter((role) => !['roles/datastore.user', 'roles/cloudtasks.enqueuer', 'roles/iam.serviceAccountUser', 'roles/secretmanager.secretAccessor', 'roles/pubsub.publisher'].includes(role));
      assert.deepEqual(unexpected, [], `${entry}: roles beyond what it needs`);
    }
  });

  it("the rate-limited webhooks' queues: a custom role without delete, held by everyone who enqueues, and the prefix the code expects", () => {
    const bindings = iamBindings();
    for (const entry of [DISPATCH_ENTRY, WORKER_ENTRY, REPAIR_ENTRY, API_ENTRY]) {
      const member = serviceAccountMember(functionByEntry(entry).service?.['service_account_email'], `${entry} service account`);
      const held = bindings.filter((b) => b.member === member && b.type === 'google_project_iam_member').flatMap((b) => customRolePermissions(b.role) ?? []);
      assert.deepEqual(RATE_LIMITED_QUEUE_PERMISSIONS.filter((p) => !held.includes(p)), [], `${entry}: needs the rate-limited queue permissions`);
    }
    for (const role of ofType('google_project_iam_custom_role')) {
      const permissions = (role.body['permissions'] as unknown[]).map(String);
      assert.ok(!permissions.some((p) => p.startsWith('cloudtasks.queues.delete') || p === 'cloudtasks.queues.purge'), `${role.address}: no queue delete or purge`);
    }
    const env = functionByEntry(DISPATCH_ENTRY).env ?? {};
    const queue = ofType('google_cloud_tasks_queue')[0];
    assert.equal(expand(String(env['TASKS_RATE_LIMITED_QUEUE_PREFIX'])), `\${${queue?.address}.name}-rl-`, 'TASKS_RATE_LIMITED_QUEUE_PREFIX is the retry queue name and -rl-');
  });

  it('operational events: OPERATIONS_TOPIC is the operations topic, pushed to the dispatcher, and the functions that announce may publish there only', () => {
    const operations = ofType('google_pubsub_topic').filter((t) => resolve(t.body['name']) === DEFAULT_OPERATIONS_TOPIC);
    assert.equal(operations.length, 1, `one google_pubsub_topic named ${DEFAULT_OPERATIONS_TOPIC} (DEFAULT_OPERATIONS_TOPIC) by default`);
    const topicAddress = operations[0]!.address;
    for (const fn of functions) {
      const env = fn.env ?? {};
      assert.equal(expression(env['OPERATIONS_TOPIC']), `${topicAddress}.name`, `${fn.resource.address}: OPERATIONS_TOPIC must be ${topicAddress}'s name`);
    }
    const dispatch = functionByEntry(DISPATCH_ENTRY);
    const pushes = ofType('google_pubsub_subscription').filter((sub) => referencedAddress(sub.body['topic']) === topicAddress);
    assert.equal(pushes.length, 1, 'one subscription of the operations topic: the push to the dispatcher');
    const push = block(pushes[0]!.body, 'push_config');
    const endpoint = String(push?.['push_endpoint'] ?? '');
    // The functions framework makes a CloudEvent of a push body only on the path /projects/P/topics/T.
    assert.ok(endpoint.startsWith(`\${${dispatch.resource.address}.url}/projects/`) && endpoint.endsWith(`/topics/\${${topicAddress}.name}`), `push endpoint must be <dispatch url>/projects/P/topics/<operations topic>, got ${endpoint}`);
    const oidc = block(push, 'oidc_token');
    const trigger = serviceAccountMember(dispatch.trigger?.['service_account_email'], 'dispatch trigger service account');
    assert.equal(serviceAccountMember(oidc?.['service_account_email'], 'operations push identity'), trigger, 'the push authenticates as the Eventarc trigger account (run.invoker on the dispatcher)');
    assert.equal(expression(oidc?.['audience']), `${dispatch.resource.address}.url`);
    assert.ok(block(pushes[0]!.body, 'dead_letter_policy'), 'an operational event the dispatcher keeps failing is dead-lettered');

    const publishers = iamBindings().filter((b) => b.role === 'roles/pubsub.publisher' && targets(b, topicAddress));
    for (const entry of [DISPATCH_ENTRY, WORKER_ENTRY, REPAIR_ENTRY]) {
      const member = serviceAccountMember(functionByEntry(entry).service?.['service_account_email'], `${entry} service account`);
      assert.ok(publishers.some((b) => b.member === member && b.type === 'google_pubsub_topic_iam_member'), `${entry}: needs roles/pubsub.publisher on the operations topic`);
    }
    const elsewhere = iamBindings().filter((b) => b.role === 'roles/pubsub.publisher' && !targets(b, topicAddress) && !b.member.includes('local.pubsub_service_agent'));
    assert.deepEqual(elsewhere.map((b) => b.address), [], 'the functions publish to the operations topic only');
  });

  it(`dead letters: ${DEAD_LETTER_ENTRY} is pushed the dead-letter topic's messages by a subscription without a dead-letter policy, the originals keep their pull subscription, and it may only publish to the operations topic`, () => {
    const fn = functionByEntry(DEAD_LETTER_ENTRY);
    assert.equal(fn.trigger, undefined, `${fn.resource.address}: reached by a push subscription, not an Eventarc trigger`);
    assert.equal(resolve(fn.service?.['ingress_settings']), 'ALLOW_INTERNAL_ONLY', `${fn.resource.address}: ingress must be internal (Pub/Sub push)`);
    // The dead-letter topic: where the Terraform-owned subscription of the operations topic dead-letters.
    const operationsTopic = ofType('google_pubsub_topic').find((t) => resolve(t.body['name']) === DEFAULT_OPERATIONS_TOPIC)!;
    const operationsPush = ofType('google_pubsub_subscription').find((sub) => referencedAddress(sub.body['topic']) === operationsTopic.address)!;
    const deadLetterTopic = referencedAddress(block(operationsPush.body, 'dead_letter_policy')?.['dead_letter_topic']);
    assert.equal(resources.get(deadLetterTopic ?? '')?.type, 'google_pubsub_topic', 'the dead-letter topic is declared here');
    const subscriptions = ofType('google_pubsub_subscription').filter((sub) => referencedAddress(sub.body['topic']) === deadLetterTopic);
    const pushes = subscriptions.filter((sub) => block(sub.body, 'push_config'));
    assert.equal(pushes.length, 1, 'one push subscription of the dead-letter topic: to deadLetterNotify');
    assert.ok(subscriptions.some((sub) => !block(sub.body, 'push_config')), 'the pull subscription that keeps the originals for inspection stays');
    const [push] = pushes;
    assert.equal(block(push!.body, 'dead_letter_policy'), undefined, 'a subscription of the dead-letter topic must not dead-letter (a loop)');
    const config = block(push!.body, 'push_config');
    const endpoint = String(config?.['push_endpoint'] ?? '');
    // The functions framework makes a CloudEvent of a push body only on the path /projects/P/topics/T.
    assert.ok(endpoint.startsWith(`\${${fn.resource.address}.url}/projects/`) && endpoint.endsWith(`/topics/\${${deadLetterTopic}.name}`), `push endpoint must be <deadLetterNotify url>/projects/P/topics/<dead-letter topic>, got ${endpoint}`);
    const oidc = block(config, 'oidc_token');
    const pusher = serviceAccountMember(oidc?.['service_account_email'], 'dead-letter push identity');
    assert.equal(expression(oidc?.['audience']), `${fn.resource.address}.url`);
    const grants = iamBindings().filter((b) => targets(b, fn.resource.address));
    assert.deepEqual(grants.map((b) => `${b.role} ${b.member}`), [`roles/run.invoker ${pusher}`], 'only the push identity may invoke deadLetterNotify');

    const runtime = serviceAccountMember(fn.service?.['service_account_email'], `${DEAD_LETTER_ENTRY} service account`);
    const held = iamBindings().filter((b) => b.member === runtime);
    assert.deepEqual(held.map((b) => b.role), ['roles/pubsub.publisher'], `${DEAD_LETTER_ENTRY}: no Firestore, no secrets, no queues`);
    assert.ok(held[0]!.type === 'google_pubsub_topic_iam_member' && targets(held[0]!, operationsTopic.address), `${DEAD_LETTER_ENTRY}: publishes to the operations topic only`);
  });

  it('custom roles hold only the permissions the code needs', () => {
    for (const role of ofType('google_project_iam_custom_role')) {
      const permissions = role.body['permissions'];
      assert.ok(Array.isArray(permissions), `${role.address}: permissions must be a literal list`);
      const extra = permissions.filter((p) => !CUSTOM_ROLE_PERMISSIONS.includes(String(p)));
      assert.deepEqual(extra, [], `${role.address}: permissions beyond ${CUSTOM_ROLE_PERMISSIONS.join(', ')}`);
    }
  });

  it('secret access is limited to hookshape-- secrets by an IAM condition', () => {
    // Bound on one declared secret (the api's signing keys) is narrower still: checked with the api.
    const grants = iamBindings().filter((b) => b.role === 'roles/secretmanager.secretAccessor' && b.type !== 'google_secret_manager_secret_iam_member');
    assert.ok(grants.length > 0, 'no secretAccessor grant');
    for (const grant of grants) {
      const condition = block(grant.body, 'condition');
      const text = expand(String(condition?.['expression'] ?? ''));
      assert.match(text, /resource\.name\.startsWith\("projects\/\$\{local\.\w+\}\/secrets\//, `${grant.address}: the condition must test resource.name.startsWith("projects/<number>/secrets/...")`);
      assert.ok(text.includes(`/secrets/${SECRET_PREFIX}")`), `${grant.address}: the condition must limit access to secrets named ${SECRET_PREFIX}*, got: ${text}`);
    }
  });

  it('acting as / minting tokens for service accounts is granted per account, never project-wide', () => {
    const projectWide = iamBindings().filter(
      (b) => b.type === 'google_project_iam_member' && /roles\/iam\.serviceAccount(User|TokenCreator)$/.test(b.role),
    );
    assert.deepEqual(projectWide.map((b) => `${b.address} ${b.role}`), [], 'project-level actAs/token-creator lets a principal impersonate every service account');
  });
});
