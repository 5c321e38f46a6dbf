/**
 * Every environment variable the functions read, in one place. Terraform sets exactly
 * `DEPLOYED_ENV_VARS` on the deployed functions (a test compares the two), so adding a variable here
 * means adding it to terraform/ as well.
 */

import { DEFAULT_LEASE_TIMING, type LeaseTiming } from '../delivery/lease.ts';
import { DEFAULT_RETRY_SETTINGS } from '../delivery/retry-policy.ts';
import { defaultRateLimitedQueuePrefix } from '../tasks/rate-limited-queue.ts';

export const DEFAULT_PROJECT_ID = 'hookshape-local';
export const DEFAULT_EVENTS_TOPIC = 'hookshape-events';
/** hookshape's own events (events/operational-events.ts); a push subscription feeds them to the dispatcher. */
export const DEFAULT_OPERATIONS_TOPIC = 'hookshape-operations';
export const DEFAULT_TASKS_QUEUE = 'hookshape-retries';
export const DEFAULT_TASKS_LOCATION = 'us-central1';
/** What Svix and GitHub do, roughly: a receiver that fails this often in a row is switched off. */
export const DEFAULT_AUTO_DISABLE_AFTER_FAILURES = 15;
/**
 * Webhooks of one account sent per event; those beyond are recorded as not sent (fan_out_limit). An
 * event's deliveries go at once up to 100 (entry/dependencies.ts), so 50 end within the default 120 s
 * dispatch timeout even if every receiver takes the 30 s request timeout; above 100, raise the
 * dispatch timeout with it.
 */
export const DEFAULT_MAX_WEBHOOKS_PER_EVENT = 50;
export const MAX_WEBHOOKS_PER_EVENT_LIMIT = 500;

/** Variables set on the deployed functions. */
export const DEPLOYED_ENV_VARS = [
  'GOOGLE_CLOUD_PROJECT',
  'EVENTS_TOPIC',
  'OPERATIONS_TOPIC',
  'TASKS_LOCATION',
  'TASKS_QUEUE',
  'TASKS_RATE_LIMITED_QUEUE_PREFIX',
  'RETRY_WORKER_URL',
  'TASKS_INVOKER_SERVICE_ACCOUNT',
  'RETRY_BASE_DELAY_SECONDS',
  'RETRY_AFTER_CAP_SECONDS',
  'WEBHOOK_CACHE_SECONDS',
  'DELIVERY_RETENTION_DAYS',
  'ALLOW_LOOPBACK_DESTINATIONS',
  'SECRETS_SOURCE',
  'AUTO_DISABLE_AFTER_FAILURES',
  'MAX_WEBHOOKS_PER_EVENT',
  'DELIVERY_LEASE_SECONDS',
  'RETRY_OVERDUE_SECONDS',
  'API_JWT_KEYS_SECRET',
  'API_CORS_ORIGINS',
  'API_PORTAL_URL',
  'PORTAL_FRAME_ANCESTORS',
  'PORTAL_BRANDING',
] as const;

/**
 * Variables only the local stack and the tests set. The emulator hosts of Firestore and Pub/Sub are
 * read by Google's client libraries themselves; CLOUD_TASKS_EMULATOR_HOST is read here because the
 * Cloud Tasks client has no emulator switch of its own.
 */
export const LOCAL_ONLY_ENV_VARS = ['CLOUD_TASKS_EMULATOR_HOST', 'LOCAL_SECRETS_FILE', 'API_JWT_KEYS_FILE'] as const;

/**
 * Read by the local stack only (functions/dev), never by the functions: HOOKSHAPE_DEV_API_KEY is
 * registered in the emulator as an ordinary platform API key (functions/dev/local-api.ts), so the
 * deployed code has no switch that would accept it; HOOKSHAPE_API_PORT is where `npm start` serves the API;
 * HOOKSHAPE_LOCAL_DIR where it keeps its files (functions/dev/local-paths.ts).
 */
export const LOCAL_STACK_ENV_VARS = ['HOOKSHAPE_DEV_API_KEY', 'HOOKSHAPE_API_PORT', 'HOOKSHAPE_LOCAL_DIR'] as const;

/** The Secret Manager secret holding the management API's token signing keys (api/customer-tokens.ts). */
export const DEFAULT_API_JWT_KEYS_SECRET = 'hookshape-api-jwt-keys';

export type DeployedEnvVar = (typeof DEPLOYED_ENV_VARS)[number];
export type LocalOnlyEnvVar = (typeof LOCAL_ONLY_ENV_VARS)[number];
type Env = Partial<Record<DeployedEnvVar | LocalOnlyEnvVar, string>> & Record<string, string | undefined>;

export const SecretsSource = ['none', 'local-file', 'secret-manager'] as const;
export type SecretsSource = (typeof SecretsSource)[number];

export interface RuntimeConfig {
  projectId: string;
  eventsTopic: string;
  /** Where operational events are published (hookshape.delivery.failed, ...). */
  operationsTopic: string;
  tasks: {
    location: string;
    queue: string;
    /** Prefix of the queues of rate-limited webhooks (`<queue>-rl-` unless set); the functions create them. */
    rateLimitedQueuePrefix: string;
    /** URL of the retry worker function, the HTTP target of every retry task. */
    workerUrl: string | undefined;
    /** Service account whose OIDC token Cloud Tasks attaches when calling the worker. */
    invokerServiceAccount: string | undefined;
    /** host:port of the local Cloud Tasks emulator; unset in production. */
    emulatorHost: string | undefined;
  };
  retry: {
    baseDelaySeconds: number;
    retryAfterCapSeconds: number;
  };
  webhookCacheSeconds: number;
  deliveryRetentionDays: number;
  /** Lets deliveries reach 127.0.0.1/::1 — for the local stack and tests only. */
  allowLoopbackDestinations: boolean;
  secrets: { source: SecretsSource; localFile: string | undefined };
  /** Consecutive finally-failed deliveries after which a webhook is disabled; 0: never. */
  autoDisableAfterFailures: number;
  maxWebhooksPerEvent: number;
  /** When a claim has no live owner, and when a waiting retry is overdue (delivery/lease.ts). */
  timing: LeaseTiming;
  api: {
    /** Where the customer token signing keys come from: a local file, else this Secret Manager secret. */
    jwtKeys: { source: 'local-file'; file: string } | { source: 'secret-manager'; secret: string };
    /** Browser origins allowed to call the API (CORS); empty: none. */
    corsOrigins: string[];
    /** The customer portal's address; a portal session's `url` is it with the token in the fragment. Unset: `<api>/portal/`. */
    portalUrl: string | undefined;
    /** Origins that may embed the portal in an iframe (CSP frame-ancestors) and send it fresh tokens (postMessage); empty: none. */
    portalFrameAncestors: string[];
    /** The portal's name, colours and logo (white-label). */
    portalBranding: PortalBranding;
  };
}

export interface PortalBranding {
  name: string;
  /** CSS colours (#rgb or #rrggbb) for --brand and --brand-contrast. */
  primaryColor?: string;
  contrastColor?: string;
  /** A data:image/… URI: the portal makes no request to another origin. */
  logo?: string;
}

const COLOUR = /^#(?:[0-9a-f]{3}|[0-9a-f]{6})$/i;
const LOGO = /^data:image\/(?:png|jpeg|webp|gif|svg\+xml);base64,[A-Za-z0-9+/=]+$/;

/** PORTAL_BRANDING: JSON `{ "name", "primaryColor", "contrastColor", "logo" }`, each optional. */
function portalBranding(env: Env): PortalBranding {
  const raw = text(env, 'PORTAL_BRANDING');
  if (raw === undefined) return { name: 'Webhooks' };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new ConfigError('PORTAL_BRANDING must be JSON, e.g. {"name": "Acme webhooks", "primaryColor": "#0b5fff"}');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw new ConfigError('PORTAL_BRANDING must be a JSON object');
  const { name, primaryColor, contrastColor, logo, ...rest } = value as Record<string, unknown>;
  if (Object.keys(rest).length > 0) throw new ConfigError(`PORTAL_BRANDING: ${Object.keys(rest).join(', ')} is not a branding field (name, primaryColor, contrastColor, logo)`);
  if (name !== undefined && (typeof name !== 'string' || name.length === 0 || name.length > 60)) throw new ConfigError('PORTAL_BRANDING.name must be a text of 1-60 characters');
  for (const [field, colour] of [['primaryColor', primaryColor], ['contrastColor', contrastColor]] as const) {
    if (colour !== undefined && (typeof colour !== 'string' || !COLOUR.test(colour))) throw new ConfigError(`PORTAL_BRANDING.${field} must be a colour like #0b5fff`);
  }
  if (logo !== undefined && (typeof logo !== 'string' || !LOGO.test(logo) || logo.length > 64 * 1024)) throw new ConfigError('PORTAL_BRANDING.logo must be a data:image/…;base64 URI of at most 64 KiB (the portal loads nothing from other origins)');
  return { name: (name as string | undefined) ?? 'Webhooks', ...(primaryColor ? { primaryColor: primaryColor as string } : {}), ...(contrastColor ? { contrastColor: contrastColor as string } : {}), ...(logo ? { logo: logo as string } : {}) };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function positiveNumber(env: Env, name: DeployedEnvVar, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0) {
    throw new ConfigError(`${name} must be a non-negative number, got '${raw}'`);
  }
  return value;
}

function count(env: Env, name: DeployedEnvVar, fallback: number): number {
  const value = positiveNumber(env, name, fallback);
  if (!Number.isInteger(value)) throw new ConfigError(`${name} must be a whole number, got '${env[name]}'`);
  return value;
}

function fanOutLimit(env: Env): number {
  const value = count(env, 'MAX_WEBHOOKS_PER_EVENT', DEFAULT_MAX_WEBHOOKS_PER_EVENT);
  if (value < 1 || value > MAX_WEBHOOKS_PER_EVENT_LIMIT) throw new ConfigError(`MAX_WEBHOOKS_PER_EVENT must be between 1 and ${MAX_WEBHOOKS_PER_EVENT_LIMIT}, got '${env.MAX_WEBHOOKS_PER_EVENT}'`);
  return value;
}

/** A duration that must not be zero: a lease of 0 s would make every claim look abandoned. */
function seconds(env: Env, name: DeployedEnvVar, fallback: number): number {
  const value = positiveNumber(env, name, fallback);
  if (value <= 0) throw new ConfigError(`${name} must be more than 0 seconds, got '${env[name]}'`);
  return value;
}

function flag(env: Env, name: DeployedEnvVar): boolean {
  const raw = (env[name] ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'false' || raw === '0' || raw === 'no') return false;
  if (raw === 'true' || raw === '1' || raw === 'yes') return true;
  throw new ConfigError(`${name} must be true or false, got '${env[name]}'`);
}

function text(env: Env, name: DeployedEnvVar | LocalOnlyEnvVar): string | undefined {
  const raw = env[name]?.trim();
  return raw ? raw : undefined;
}

/**
 * A comma-separated list of origins (scheme://host[:port]), each as browsers write it (lower case, no
 * default port). `*` is refused: CORS is for named origins only. So is anything else that is not one
 * exact http(s) origin: PORTAL_FRAME_ANCESTORS becomes the CSP's frame-ancestors, where `https:` would
 * let every https page frame the portal and a `;` would add a directive, and origins are compared as
 * written with the Origin header and postMessage's event.origin.
 */
function origins(env: Env, name: DeployedEnvVar): string[] {
  const list = (text(env, name) ?? '').split(',').map((item) => item.trim().replace(/\/+$/, '')).filter(Boolean);
  const wildcard = list.find((item) => item.includes('*'));
  if (wildcard) throw new ConfigError(`${name} lists origins by name; '${wildcard}' is a wildcard`);
  return list.map((item) => {
    let url: URL | undefined;
    try {
      url = new URL(item);
    } catch {
      url = undefined;
    }
    const exact = url && (url.protocol === 'https:' || url.protocol === 'http:') && url.host !== '' && !url.username && !url.password && url.pathname === '/' && !url.search && !url.hash && !/[\s;,'"]/.test(item);
    if (!url || !exact || !new RegExp(`^${url.protocol}//`, 'i').test(item)) throw new ConfigError(`${name}: '${item}' is not an origin; write each as scheme://host[:port], e.g. https://app.example.com`);
    return url.origin;
  });
}

/** The rate-limited queues' prefix; rateLimitedQueueId makes any prefix a valid queue id (cut, characters replaced). */
function queuePrefix(env: Env, queue: string): string {
  return text(env, 'TASKS_RATE_LIMITED_QUEUE_PREFIX') ?? defaultRateLimitedQueuePrefix(queue);
}

/** Reads the configuration; tests pass their own env. */
export function loadConfig(env: Env = process.env): RuntimeConfig {
  const secretsLocalFile = text(env, 'LOCAL_SECRETS_FILE');
  const secretsSource = text(env, 'SECRETS_SOURCE') ?? (secretsLocalFile ? 'local-file' : 'none');
  if (!(SecretsSource as readonly string[]).includes(secretsSource)) {
    throw new ConfigError(`SECRETS_SOURCE must be one of ${SecretsSource.join(', ')}, got '${secretsSource}'`);
  }
  return {
    projectId: text(env, 'GOOGLE_CLOUD_PROJECT') ?? DEFAULT_PROJECT_ID,
    eventsTopic: text(env, 'EVENTS_TOPIC') ?? DEFAULT_EVENTS_TOPIC,
    operationsTopic: text(env, 'OPERATIONS_TOPIC') ?? DEFAULT_OPERATIONS_TOPIC,
    tasks: {
      location: text(env, 'TASKS_LOCATION') ?? DEFAULT_TASKS_LOCATION,
      queue: text(env, 'TASKS_QUEUE') ?? DEFAULT_TASKS_QUEUE,
      rateLimitedQueuePrefix: queuePrefix(env, text(env, 'TASKS_QUEUE') ?? DEFAULT_TASKS_QUEUE),
      workerUrl: text(env, 'RETRY_WORKER_URL'),
      invokerServiceAccount: text(env, 'TASKS_INVOKER_SERVICE_ACCOUNT'),
      emulatorHost: text(env, 'CLOUD_TASKS_EMULATOR_HOST'),
    },
    retry: {
      baseDelaySeconds: positiveNumber(env, 'RETRY_BASE_DELAY_SECONDS', DEFAULT_RETRY_SETTINGS.baseDelaySeconds),
      retryAfterCapSeconds: positiveNumber(env, 'RETRY_AFTER_CAP_SECONDS', DEFAULT_RETRY_SETTINGS.retryAfterCapSeconds),
    },
    webhookCacheSeconds: positiveNumber(env, 'WEBHOOK_CACHE_SECONDS', 10),
    deliveryRetentionDays: positiveNumber(env, 'DELIVERY_RETENTION_DAYS', 30),
    allowLoopbackDestinations: flag(env, 'ALLOW_LOOPBACK_DESTINATIONS'),
    secrets: { source: secretsSource as SecretsSource, localFile: secretsLocalFile },
    autoDisableAfterFailures: count(env, 'AUTO_DISABLE_AFTER_FAILURES', DEFAULT_AUTO_DISABLE_AFTER_FAILURES),
    maxWebhooksPerEvent: fanOutLimit(env),
    timing: {
      leaseMs: seconds(env, 'DELIVERY_LEASE_SECONDS', DEFAULT_LEASE_TIMING.leaseMs / 1000) * 1000,
      overdueMs: seconds(env, 'RETRY_OVERDUE_SECONDS', DEFAULT_LEASE_TIMING.overdueMs / 1000) * 1000,
    },
    api: {
      jwtKeys: ((file) => (file ? { source: 'local-file' as const, file } : { source: 'secret-manager' as const, secret: text(env, 'API_JWT_KEYS_SECRET') ?? DEFAULT_API_JWT_KEYS_SECRET }))(text(env, 'API_JWT_KEYS_FILE')),
      corsOrigins: origins(env, 'API_CORS_ORIGINS'),
      portalUrl: text(env, 'API_PORTAL_URL'),
      portalFrameAncestors: origins(env, 'PORTAL_FRAME_ANCESTORS'),
      portalBranding: portalBranding(env),
    },
  };
}
