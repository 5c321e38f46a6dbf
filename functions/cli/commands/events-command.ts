import { EVENT_CATALOGUE, EVENT_ENVELOPE_VARIABLES, EVENT_TYPES, isEventType, sampleEvent } from '../../src/events/event-catalogue.ts';
import { editDistance } from '../../src/validation/validate-webhook.ts';
import { COMMON_HELP, parseCommand } from '../cli-args.ts';
import { bold, dim, out, printJson, table, usageError } from '../cli-output.ts';
import type { CommandContext } from './command.ts';

export const EVENTS_HELP = `hookshape events [<type>] — the event catalogue

  hookshape events                 every event type, its platform name and when it fires
  hookshape events call.created    the variables templates can use for call.created, and its sample

The sample is what hookshape validate, preview and send-test render.

${COMMON_HELP}`;

/** The closest known type, for "did you mean". */
function suggestion(value: string): string | undefined {
  const lower = value.toLowerCase();
  const [best] = EVENT_TYPES.map((type) => ({ type, distance: editDistance(type, lower) })).sort((a, b) => a.distance - b.distance);
  return best && best.distance <= 3 ? best.type : EVENT_TYPES.find((type) => type.includes(lower));
}

export function requireEventType(value: string, command: string) {
  if (isEventType(value)) return value;
  const guess = suggestion(value);
  throw usageError(`unknown event type '${value}'${guess ? ` (did you mean ${guess}?)` : ''}; hookshape events lists them`, command);
}

export async function eventsCommand(args: string[], context: CommandContext): Promise<number> {
  const { values, positionals } = parseCommand('events', args, {});
  if (values.help) return context.help(EVENTS_HELP);
  if (positionals.length > 1) throw usageError('give at most one event type', 'events');
  const [typeArgument] = positionals;
  if (typeArgument === undefined) {
    if (values.json) {
      printJson(EVENT_TYPES.map((type) => ({ type, platformName: EVENT_CATALOGUE[type].seedName, description: EVENT_CATALOGUE[type].description })));
    } else {
      out(table(['EVENT', 'PLATFORM NAME', 'WHEN'], EVENT_TYPES.map((type) => [type, EVENT_CATALOGUE[type].seedName, EVENT_CATALOGUE[type].description])));
      out(dim(`\n${EVENT_TYPES.length} event types. hookshape events <type> shows its variables and sample.`));
    }
    return 0;
  }
  const type = requireEventType(typeArgument, 'events');
  const definition = EVENT_CATALOGUE[type];
  const sample = sampleEvent(type);
  const variables = [...EVENT_ENVELOPE_VARIABLES, ...definition.variables];
  if (values.json) {
    printJson({ type, platformName: definition.seedName, description: definition.description, variables, sample });
    return 0;
  }
  out(`${bold(type)} — ${definition.seedName}`);
  out(definition.description);
  out();
  out(table(['VARIABLE', 'TYPE', 'DESCRIPTION'], variables.map((variable) => [`{{ ${variable.path.replace(/\[\]/g, '[0]')} }}`, variable.type, variable.description])));
  out();
  out(bold('Sample event') + dim(' (what validate, preview and send-test render)'));
  out(JSON.stringify(sample, null, 2));
  out(dim('\nTemplates also see {{ secrets.NAME }}: the account\'s secrets, by name.'));
  return 0;
}
