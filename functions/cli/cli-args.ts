import { parseArgs, type ParseArgsConfig } from 'node:util';
import { DeliveryStatus } from '../src/delivery/delivery-record.ts';
import { usageError } from './cli-output.ts';

/** Options every command takes. */
export const COMMON_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  json: { type: 'boolean' },
  project: { type: 'string' },
} as const satisfies ParseArgsConfig['options'];

export const COMMON_HELP = `Common options:
  --project ID   Google Cloud project (default: GOOGLE_CLOUD_PROJECT, or the running local stack's)
  --json         machine-readable output on stdout
  -h, --help     this help`;

/** parseArgs with strict checking; a mistake is a usage error (exit 2) naming the command. */
export function parseCommand<O extends NonNullable<ParseArgsConfig['options']>>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options: { ...COMMON_OPTIONS, ...options }, allowPositionals: true, strict: true, allowNegative: true });
  } catch (error) {
    throw usageError((error as Error).message.replace(/\. To specify a positional argument.*$/s, ''), command);
  }
}

/** `acc_42/crm-calls` → the account and webhook ids. */
export function parseWebhookRef(value: string | undefined, command: string): { accountId: string; webhookId: string } {
  const match = /^([^/\s]+)\/([^/\s]+)$/.exec(value ?? '');
  if (!match) throw usageError(`expected <account>/<webhook>, e.g. acc_42/crm-calls${value ? `, got '${value}'` : ''}`, command);
  return { accountId: match[1]!, webhookId: match[2]! };
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--since 1h` / `30m` / `7d` / an ISO date → the instant it names. */
export function parseSince(value: string | undefined, command: string, now = new Date()): Date | undefined {
  if (value === undefined) return undefined;
  const relative = /^(\d+)\s*([smhd])$/.exec(value.trim());
  if (relative) return new Date(now.getTime() - Number(relative[1]) * UNITS[relative[2]!]!);
  const absolute = new Date(value);
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && !Number.isNaN(absolute.getTime())) return absolute;
  throw usageError(`--since must be a duration like 30m, 1h, 7d or an ISO date, got '${value}'`, command);
}

export function parseStatus(value: string | undefined, command: string, allowed: readonly DeliveryStatus[] = DeliveryStatus): DeliveryStatus | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw usageError(`--status must be one of ${allowed.join(', ')}, got '${value}'`, command);
  return value as DeliveryStatus;
}

export function parsePositiveInteger(value: string | undefined, name: string, fallback: number, max: number, command: string): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!Number.isInteger(number) || number < 1 || number > max) throw usageError(`--${name} must be a whole number from 1 to ${max}, got '${value}'`, command);
  return number;
}
