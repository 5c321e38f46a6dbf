#!/usr/bin/env node
/**
 * hookshape — the operators' command line: the event catalogue, validating and previewing a webhook,
 * sending a test event, reading the delivery log and an account's status, replaying and repairing
 * deliveries, against the emulators (the local stack) or Google Cloud. `hookshape --help` lists the commands.
 */
import { ConfigError } from '../src/config/runtime-config.ts';
import { VERSION } from '../src/version.ts';
import { resolveEnvironment, type CliEnvironment } from './cli-environment.ts';
import { CliError, EXIT, note, out, printJson } from './cli-output.ts';
import type { Command, CommandContext } from './commands/command.ts';
import { deliveriesCommand } from './commands/deliveries-command.ts';
import { eventsCommand } from './commands/events-command.ts';
import { keysCommand } from './commands/keys-command.ts';
import { previewCommand } from './commands/preview-command.ts';
import { repairCommand } from './commands/repair-command.ts';
import { replayCommand } from './commands/replay-command.ts';
import { sendTestCommand } from './commands/send-test-command.ts';
import { statusCommand } from './commands/status-command.ts';
import { validateCommand } from './commands/validate-command.ts';

const COMMANDS: Record<string, { run: Command; summary: string }> = {
  events: { run: eventsCommand, summary: 'the event catalogue; events <type>: its variables and sample' },
  validate: { run: validateCommand, summary: 'check a webhook document (file or stored) as the trigger does' },
  preview: { run: previewCommand, summary: 'the exact HTTP request a webhook would send for an event; nothing sent' },
  'send-test': { run: sendTestCommand, summary: 'publish a sample event for a webhook and print the delivery outcome' },
  deliveries: { run: deliveriesCommand, summary: "a webhook's state and its delivery log" },
  status: { run: statusCommand, summary: "an account's deliveries by status (last hour) and its oldest pending/retrying" },
  replay: { run: replayCommand, summary: 'send deliveries again (one event, or by status and age)' },
  repair: { run: repairCommand, summary: 'move on deliveries left pending or retrying without a live owner' },
  keys: { run: keysCommand, summary: 'platform API keys for the management API: create (shown once), list, revoke' },
};

const HELP = `hookshape ${VERSION} — templated webhooks: preview, test, inspect and replay

Usage: hookshape <command> [options]        (npx hookshape ... from the repository)

Commands:
${Object.entries(COMMANDS).map(([name, { summary }]) => `  ${name.padEnd(12)}${summary}`).join('\n')}

hookshape <command> --help shows a command's options.

Where: the emulators named by FIRESTORE_EMULATOR_HOST / PUBSUB_EMULATOR_HOST / CLOUD_TASKS_EMULATOR_HOST,
else the running local stack (npm start), else Google Cloud (gcloud auth application-default login)
with --project or GOOGLE_CLOUD_PROJECT.

Exit codes: 0 ok, 1 what was checked failed, 2 usage error, 3 cannot reach the emulators or the cloud.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    const topic = name === 'help' ? args[0] : undefined;
    if (topic && COMMANDS[topic]) return COMMANDS[topic].run(['--help'], context);
    out(HELP);
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    out(VERSION);
    return EXIT.ok;
  }
  const command = COMMANDS[name];
  if (!command) throw new CliError(EXIT.usage, `unknown command '${name}'`, `commands: ${Object.keys(COMMANDS).join(', ')}; see hookshape --help`);
  return command.run(args, context);
}

let environment: CliEnvironment | undefined;
const context: CommandContext = {
  environment: (project, command) => (environment ??= resolveEnvironment(project, command)),
  help(text) {
    out(text);
    return EXIT.ok;
  },
};

const argv = process.argv.slice(2);
const json = argv.includes('--json');
let code: number;
try {
  code = await main(argv);
} catch (error) {
  const failure =
    error instanceof CliError ? error : error instanceof ConfigError ? new CliError(EXIT.usage, `configuration: ${error.message}`) : new CliError(EXIT.failed, `unexpected error: ${(error as Error).stack ?? String(error)}`);
  note(`hookshape: ${failure.message}`);
  if (failure.hint) note(`  ${failure.hint}`);
  if (json) printJson({ error: failure.message, exitCode: failure.exitCode });
  code = failure.exitCode;
}
await environment?.close().catch(() => undefined);
process.exit(code);
