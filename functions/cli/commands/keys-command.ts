import type { ApiKeyRecord } from '../../src/api/api-keys.ts';
import { FirestoreApiKeyStore } from '../../src/firestore/firestore-api-keys.ts';
import { apiKeyPath } from '../../src/firestore/firestore-layout.ts';
import { fromFirestore } from '../../src/firestore/firestore-values.ts';
import { createErrorTextLogger } from '../../src/log/logger.ts';
import { COMMON_HELP, parseCommand } from '../cli-args.ts';
import type { CliEnvironment } from '../cli-environment.ts';
import { bold, checkFailed, dim, note, out, printJson, shortTime, table, usageError } from '../cli-output.ts';
import type { CommandContext } from './command.ts';

export const KEYS_HELP = `hookshape keys create|list|revoke — platform API keys for the management API

  hookshape keys create --name N --account A      a key for one account's routes (/v1/accounts/A/...)
  hookshape keys create --name N --all-accounts   a key for every account (the platform's backend)
  hookshape keys list [--account A]               every key: id, prefix, name, scope, created, last used, revoked
  hookshape keys revoke <id>                      the key is refused (401) from its next request on

create prints the key on stdout, this once: only its SHA-256 is stored (apiKeys/<id> in Firestore), so
it cannot be shown again. Put it where it is used (e.g. a Secret Manager secret), and send it as
Authorization: Bearer <key>. The id (the first 20 hex digits of the hash) and the prefix (hks_ and a few
characters) are what list shows to tell keys apart; neither is enough to use one.

createdBy records the local user name ($USER), or 'hookshape-cli' when it is unset: a label for people,
not a verified identity (who changed apiKeys/ is in Firestore's Data Access audit logs).

list --account A shows the keys scoped to A only; keys for every account also work on A's routes and
are listed without --account. Revoked keys stay listed (and stored) for the audit trail; revoking one
again changes nothing and exits 0.

Options:
  --name N          create: what the key is for, shown by list (1-200 characters)
  --account A       create: scope the key to this account; list: only keys scoped to it
  --all-accounts    create: a key for every account

Needs roles/datastore.user in Google Cloud, as the other commands.

Exit code: 0 ok, 1 no key with that id (revoke), 2 usage error, 3 cannot reach the emulators or Google
Cloud.

${COMMON_HELP}`;

const SUBCOMMANDS = ['create', 'list', 'revoke'] as const;
const KEY_ID = /^[0-9a-f]{20}$/;

/** The store's log lines (query shapes at DEBUG): errors go to stderr, the rest nowhere. */
const cliLogger = createErrorTextLogger(note);

/**
 * What the CLI shows of a key record, field by field: never the hash (nor anything added to the record
 * later without being named here).
 */
function shown(record: ApiKeyRecord) {
  return {
    id: record.id,
    display: record.display,
    name: record.name,
    accountId: record.accountId,
    allAccounts: record.accountId === null,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    lastUsedAt: record.lastUsedAt ?? null,
    revokedAt: record.revokedAt ?? null,
  };
}

const scopeOf = (record: Pick<ApiKeyRecord, 'accountId'>) => (record.accountId === null ? 'all accounts' : `account ${record.accountId}`);

/** The account ids the API takes in its paths (api/schemas.ts), loaded only when a command names one. */
async function requireAccountId(value: string, command: string): Promise<string> {
  const { DOCUMENT_ID } = await import('../../src/api/schemas.ts');
  if (!DOCUMENT_ID.test(value)) throw usageError(`--account must be an account id as in the API's paths (1-200 letters, digits, or _ . : -), got '${value}'`, command);
  return value;
}

export async function keysCommand(args: string[], context: CommandContext): Promise<number> {
  const [subcommand, ...rest] = args;
  if (subcommand === '--help' || subcommand === '-h' || subcommand === 'help') return context.help(KEYS_HELP);
  if (subcommand === undefined) throw usageError('give a subcommand: create, list or revoke', 'keys');
  if (!(SUBCOMMANDS as readonly string[]).includes(subcommand)) {
    throw usageError(`unknown keys subcommand '${subcommand}': create, list or revoke${subcommand.startsWith('-') ? ' comes first (hookshape keys create --name N ...)' : ''}`, 'keys');
  }
  switch (subcommand as (typeof SUBCOMMANDS)[number]) {
    case 'create':
      return createKey(rest, context);
    case 'list':
      return listKeys(rest, context);
    case 'revoke':
      return revokeKey(rest, context);
  }
}

function storeOf(environment: CliEnvironment) {
  return environment.firestore().then((db) => ({ db, store: new FirestoreApiKeyStore(db, cliLogger) }));
}

async function createKey(args: string[], context: CommandContext): Promise<number> {
  const command = 'keys create';
  const { values, positionals } = parseCommand(command, args, { name: { type: 'string' }, account: { type: 'string' }, 'all-accounts': { type: 'boolean' } });
  if (values.help) return context.help(KEYS_HELP);
  if (positionals.length > 0) throw usageError(`keys create takes no arguments, got '${positionals.join(' ')}' (the name goes in --name)`, command);
  const allAccounts = values['all-accounts'] === true;
  if (values.account !== undefined && allAccounts) throw usageError('give --account A or --all-accounts, not both', command);
  if (values.account === undefined && !allAccounts) throw usageError('which accounts may the key act for? give --account A (one account) or --all-accounts (every account: the platform)', command);
  const accountId = values.account === undefined ? null : await requireAccountId(values.account, command);
  if (values.name === undefined) throw usageError("give the key a name: --name 'CRM backend' (list shows it)", command);
  const name = values.name.trim();
  const { MAX_NAME_CHARS } = await import('../../src/api/schemas.ts');
  if (!name || [...name].length > MAX_NAME_CHARS) throw usageError(`--name must be 1-${MAX_NAME_CHARS} characters, got ${name ? `${[...name].length}` : 'an empty one'}`, command);
  const createdBy = process.env.USER?.trim() || 'hookshape-cli';

  const environment = context.environment(values.project, command);
  const { store } = await storeOf(environment);
  const { key, record } = await environment.call('create the API key', () => store.create({ name, accountId, createdBy }));
  if (values.json) {
    printJson({ key, ...shown(record) });
  } else {
    out(
      [
        `${bold('key')}      ${key}`,
        `${bold('id')}       ${record.id}`,
        `${bold('name')}     ${record.name}`,
        `${bold('scope')}    ${scopeOf(record)}`,
        `${bold('created')}  ${shortTime(record.createdAt)} by ${record.createdBy} in ${environment.where}`,
      ].join('\n'),
    );
  }
  note(`the key is shown this once: only its hash is stored, it cannot be shown again. Keep it now (e.g. in Secret Manager); hookshape keys revoke ${record.id} ends it.`);
  return 0;
}

async function listKeys(args: string[], context: CommandContext): Promise<number> {
  const command = 'keys list';
  const { values, positionals } = parseCommand(command, args, { account: { type: 'string' } });
  if (values.help) return context.help(KEYS_HELP);
  if (positionals.length > 0) throw usageError(`keys list takes no arguments, got '${positionals.join(' ')}' (for one account: --account A)`, command);
  const accountId = values.account === undefined ? undefined : await requireAccountId(values.account, command);

  const environment = context.environment(values.project, command);
  const { store } = await storeOf(environment);
  const all = await environment.call('list the API keys', () => store.list());
  const records = accountId === undefined ? all : all.filter((record) => record.accountId === accountId);
  if (values.json) {
    printJson({ account: accountId ?? null, keys: records.map(shown) });
    return 0;
  }
  const which = accountId === undefined ? '' : ` scoped to account ${accountId}`;
  if (records.length === 0) {
    out(`no API keys${which} in ${environment.where}`);
    return 0;
  }
  out(
    table(
      ['ID', 'KEY', 'NAME', 'SCOPE', 'CREATED', 'BY', 'LAST USED', 'REVOKED'],
      records.map((record) => [record.id, record.display, record.name, scopeOf(record), shortTime(record.createdAt), record.createdBy, shortTime(record.lastUsedAt) || '-', shortTime(record.revokedAt) || '-']),
    ),
  );
  const revoked = records.filter((record) => record.revokedAt).length;
  out(dim(`\n${records.length} key${records.length === 1 ? '' : 's'}${which}${revoked ? `, ${revoked} revoked` : ''}. The keys themselves are not stored: lost ones are revoked and created again.`));
  return 0;
}

async function readKey(environment: CliEnvironment, id: string): Promise<ApiKeyRecord | undefined> {
  const db = await environment.firestore();
  const snapshot = await environment.call('read the API key', () => db.doc(apiKeyPath(id)).get());
  return snapshot.exists ? fromFirestore<ApiKeyRecord>(snapshot.data()) : undefined;
}

async function revokeKey(args: string[], context: CommandContext): Promise<number> {
  const command = 'keys revoke';
  const { values, positionals } = parseCommand(command, args, {});
  if (values.help) return context.help(KEYS_HELP);
  if (positionals.length !== 1) throw usageError('give one key id (hookshape keys list shows them)', command);
  const id = positionals[0]!;
  if (!KEY_ID.test(id)) {
    const hint = id.startsWith('hks_') ? ': this looks like the key itself; give its id (hookshape keys list shows ids and prefixes)' : ' (hookshape keys list shows them)';
    throw usageError(`a key id is 20 hex digits${id.startsWith('hks_') ? '' : `, got '${id}'`}${hint}`, command);
  }

  const environment = context.environment(values.project, command);
  const { store } = await storeOf(environment);
  const before = await readKey(environment, id);
  if (!before) throw checkFailed(`no API key with id ${id} in ${environment.where} (hookshape keys list shows the ids)`);
  if (before.revokedAt) {
    const message = `API key ${id} (${before.name}, ${scopeOf(before)}) was already revoked at ${shortTime(before.revokedAt)}: nothing changed`;
    if (values.json) {
      printJson({ revoked: true, alreadyRevoked: true, key: shown(before) });
      note(message);
    } else out(message);
    return 0;
  }
  const found = await environment.call('revoke the API key', () => store.revoke(id, new Date()));
  const after = found ? await readKey(environment, id) : undefined;
  if (!after) throw checkFailed(`API key ${id} was deleted while it was being revoked`);
  if (values.json) printJson({ revoked: true, alreadyRevoked: false, key: shown(after) });
  else out(`revoked API key ${id} (${after.name}, ${scopeOf(after)}) at ${shortTime(after.revokedAt)}: requests with it are refused (401) from now on`);
  return 0;
}
