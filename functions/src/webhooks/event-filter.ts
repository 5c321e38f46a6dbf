/**
 * A webhook's `filter` (issue 16): a JSON condition on the event, in the shape Convoy, Hookdeck and
 * Outpost users know. Keys are dotted paths of the template context (`data.call.durationSeconds`,
 * `event.type`, `webhook.name`; never `secrets`), values are a literal (equality), a map of operators,
 * or a nested map of more path segments. Pure: parsed once per webhook version, evaluated per event.
 *
 * Semantics, as in MongoDB (whose query language these filters imitate):
 * - a map's entries must all match (`$and` explicit, `$or` any, `$not` inverts);
 * - a path through an array reads that key of every item (`data.agents.name`), a number picks one
 *   (`data.tags.0` or `data.tags[0]`), and a comparison with an array value matches when any item does;
 * - a missing path matches only `$exist: false`, `$neq`, `$nin` and `$eq: null`;
 * - `$gt`/`$gte`/`$lt`/`$lte` compare numbers with numbers and text with text (ISO dates compare as
 *   text); anything else does not match;
 * - `$regex` is an RE2 pattern (re2js): matching takes linear time whatever the pattern, and patterns
 *   RE2 cannot run in linear time (backreferences, lookaround) are refused when the webhook is saved.
 *   The input is bounded too: a value longer than REGEX_INPUT_CHARS is not matched, and one event's
 *   evaluation scans at most REGEX_BUDGET_CHARS characters with regexes.
 */
import { RE2JS } from 're2js';
import type { EventMessage } from '../events/event-message.ts';
import { editDistance } from './describe-issues.ts';
import type { WebhookConfig } from './webhook-config.ts';

export const FIELD_OPERATORS = ['$eq', '$neq', '$gt', '$gte', '$lt', '$lte', '$in', '$nin', '$exist', '$regex'] as const;
export type FieldOperator = (typeof FIELD_OPERATORS)[number];
export const LOGICAL_OPERATORS = ['$and', '$or', '$not'] as const;

/** The roots of the template context a filter may read (`secrets` is not one of them). */
export const FILTER_ROOTS = ['event', 'data', 'webhook'] as const;

export const FILTER_LIMITS = {
  /** Conditions (tests and logical operators) in one filter. */
  conditions: 100,
  /** Nesting of maps and logical operators. */
  depth: 10,
  /** Items of one `$in` / `$nin` list. */
  listItems: 500,
  /** Characters of one `$regex` pattern. */
  regexPatternChars: 512,
  /** A longer value is not matched by `$regex`. */
  regexInputChars: 16 * 1024,
  /** Characters all the `$regex` tests of one evaluation may scan together. */
  regexBudgetChars: 256 * 1024,
} as const;

type Test = { kind: 'test'; path: string; segments: string[]; operator: FieldOperator; operand: unknown; regex?: RE2JS };
type Condition = { kind: 'and'; conditions: Condition[] } | { kind: 'or'; conditions: Condition[] } | { kind: 'not'; condition: Condition } | Test;

/** A parsed filter: evaluate it with evaluateFilter. */
export interface EventFilter {
  readonly condition: Condition;
  /** Every path the filter reads (`data.call.durationSeconds`) and where it is written, for the save-time checks. */
  readonly reads: ReadonlyArray<{ path: string; at: ReadonlyArray<string | number> }>;
}

/** One problem of a filter; `path` is where in the `filter` field (`['$and', 0, 'data.x', '$gt']`). */
export interface FilterIssue {
  path: Array<string | number>;
  message: string;
}

export type ParsedFilter = { ok: true; filter: EventFilter } | { ok: false; issues: FilterIssue[] };

const isMap = (value: unknown): value is Record<string, unknown> => value !== null && typeof value === 'object' && !Array.isArray(value);
const isFieldOperator = (key: string): key is FieldOperator => (FIELD_OPERATORS as readonly string[]).includes(key);
const EXAMPLE = '{"data.call.durationSeconds": {"$gt": 60}}';

/** `data.tags[0]` and `data.tags.0` alike: ['data', 'tags', '0']; undefined when a part is empty. */
export function pathSegments(path: string): string[] | undefined {
  const segments = path.replace(/\[(\d+)\]/g, '.$1').split('.');
  return segments.every((segment) => segment.length > 0) ? segments : undefined;
}

function closestOperator(key: string): string | undefined {
  const lower = key.toLowerCase();
  const aliases: Record<string, string> = { $exists: '$exist', $ne: '$neq', $equals: '$eq', $match: '$regex', $nor: '$not' };
  return aliases[lower] ?? [...FIELD_OPERATORS, ...LOGICAL_OPERATORS].find((known) => editDistance(known, lower) <= 1 || (lower.length > 2 && known.startsWith(lower)));
}

/** Parses and checks a `filter` field: the structure, every operator and operand, every regex. */
export function parseFilter(value: unknown): ParsedFilter {
  const issues: FilterIssue[] = [];
  const reads: Array<{ path: string; at: FilterIssue['path'] }> = [];
  let conditions = 0;

  const operand = (operator: FieldOperator, raw: unknown, at: FilterIssue['path']): { ok: boolean; regex?: RE2JS } => {
    const fail = (message: string) => (issues.push({ path: at, message }), { ok: false });
    switch (operator) {
      case '$eq':
      case '$neq':
        return { ok: true };
      case '$gt':
      case '$gte':
      case '$lt':
      case '$lte':
        if ((typeof raw === 'number' && Number.isFinite(raw)) || typeof raw === 'string') return { ok: true };
        return fail('must be a number or a text to compare with (dates compare as ISO text, e.g. "2025-03-14T00:00:00Z")');
      case '$in':
      case '$nin':
        if (!Array.isArray(raw)) return fail('must be an array of values, e.g. ["Ventas hogar", "Soporte"]');
        if (raw.length > FILTER_LIMITS.listItems) return fail(`has ${raw.length} values; the limit is ${FILTER_LIMITS.listItems}`);
        return { ok: true };
      case '$exist':
        return typeof raw === 'boolean' ? { ok: true } : fail('must be true or false');
      case '$regex': {
        if (typeof raw !== 'string') return fail('must be a text: an RE2 regular expression, e.g. "^Ventas" or "(?i)urgent"');
        if (raw.length > FILTER_LIMITS.regexPatternChars) return fail(`is ${raw.length} characters; the limit is ${FILTER_LIMITS.regexPatternChars}`);
        try {
          return { ok: true, regex: RE2JS.compile(raw) };
        } catch (error) {
          const reason = (error as Error).message.replace(/^error parsing regexp: /, '');
          return fail(`is not a regular expression hookshape can run: ${reason} (RE2 syntax, which always runs in linear time: no backreferences or lookaround)`);
        }
      }
    }
  };

  const test = (segments: string[], operator: FieldOperator, raw: unknown, at: FilterIssue['path']): Condition | undefined => {
    const path = segments.join('.');
    const root = segments[0]!;
    if (!(FILTER_ROOTS as readonly string[]).includes(root)) {
      issues.push({ path: at, message: root === 'secrets' ? 'a filter cannot read secrets' : `${path} is not a variable: filters read event, data and webhook (e.g. data.${path})` });
      return undefined;
    }
    const checked = operand(operator, raw, at);
    if (!checked.ok) return undefined;
    reads.push({ path, at });
    return { kind: 'test', path, segments, operator, operand: raw, ...(checked.regex ? { regex: checked.regex } : {}) };
  };

  /** A map of conditions under the path `prefix` (empty at the top). */
  const map = (raw: unknown, prefix: string[], at: FilterIssue['path'], depth: number): Condition | undefined => {
    if (!isMap(raw)) {
      issues.push({ path: at, message: `must be a map of conditions, e.g. ${EXAMPLE}` });
      return undefined;
    }
    if (depth > FILTER_LIMITS.depth) {
      issues.push({ path: at, message: `is nested more than ${FILTER_LIMITS.depth} levels deep` });
      return undefined;
    }
    const all: Condition[] = [];
    for (const [key, item] of Object.entries(raw)) {
      const here = [...at, key];
      if (++conditions > FILTER_LIMITS.conditions) {
        issues.push({ path: here, message: `the filter has more than ${FILTER_LIMITS.conditions} conditions` });
        return undefined;
      }
      let condition: Condition | undefined;
      if (key === '$and' || key === '$or') {
        if (!Array.isArray(item) || item.length === 0) {
          issues.push({ path: here, message: `must be a non-empty array of conditions, e.g. [${EXAMPLE}, {"data.queue.name": "Ventas hogar"}]` });
          continue;
        }
        const parts = item.map((part, index) => map(part, prefix, [...here, index], depth + 1));
        if (parts.every((part) => part !== undefined)) condition = { kind: key === '$and' ? 'and' : 'or', conditions: parts as Condition[] };
      } else if (key === '$not') {
        const inner = map(item, prefix, here, depth + 1);
        if (inner) condition = { kind: 'not', condition: inner };
      } else if (isFieldOperator(key)) {
        if (prefix.length === 0) {
          issues.push({ path: here, message: `${key} needs a path to test, e.g. {"data.call.durationSeconds": {"${key}": …}}` });
          continue;
        }
        condition = test(prefix, key, item, here);
      } else if (key.startsWith('$')) {
        const guess = closestOperator(key);
        issues.push({ path: here, message: `${key} is not an operator${guess ? ` (did you mean ${guess}?)` : ''}; the operators are ${[...FIELD_OPERATORS, ...LOGICAL_OPERATORS].join(' ')}` });
        continue;
      } else {
        const segments = pathSegments(key);
        if (!segments) {
          issues.push({ path: here, message: `'${key}' is not a path: write dotted names, e.g. data.call.durationSeconds` });
          continue;
        }
        const full = [...prefix, ...segments];
        if (isMap(item)) {
          if (Object.keys(item).length === 0) {
            issues.push({ path: here, message: `is an empty condition: give a value or operators, e.g. {"$exist": true}` });
            continue;
          }
          condition = map(item, full, here, depth + 1);
        } else {
          condition = test(full, '$eq', item, here);
        }
      }
      if (condition) all.push(condition);
    }
    return all.length === 1 ? all[0] : { kind: 'and', conditions: all };
  };

  const condition = map(value, [], [], 0);
  if (issues.length > 0 || !condition) return { ok: false, issues };
  return { ok: true, filter: { condition, reads } };
}

/** What a filter sees of an event: the template context without `secrets`. */
export interface FilterContext {
  event: { id: string; type: string; accountId: string; occurredAt: string };
  data: Record<string, unknown>;
  webhook: { id: string; name: string };
}

/**
 * Whether the event passes, and if not, why: `reason` names the path and the value found
 * (`data.call.durationSeconds is 45, not > 60`); `at` is the failing path (or `$or`, `$not`) alone,
 * without event data, for logs and metrics.
 */
export type FilterVerdict = { pass: true; reason: string } | { pass: false; reason: string; at: string };

interface Result {
  match: boolean;
  why: string;
  at: string;
}

interface Evaluation {
  regexBudget: number;
}

const hasOwn = (value: unknown, key: string): boolean => isMap(value) && Object.hasOwn(value, key);

/** The values a path reaches: through arrays, each item's (a number picks one item); own properties only. */
function resolve(root: unknown, segments: readonly string[]): unknown[] {
  let current: unknown[] = [root];
  for (const segment of segments) {
    const next: unknown[] = [];
    for (const value of current) {
      if (Array.isArray(value)) {
        if (/^\d+$/.test(segment)) {
          if (Number(segment) < value.length) next.push(value[Number(segment)]);
        } else {
          for (const item of value) if (hasOwn(item, segment)) next.push((item as Record<string, unknown>)[segment]);
        }
      } else if (hasOwn(value, segment)) {
        next.push((value as Record<string, unknown>)[segment]);
      }
    }
    current = next;
  }
  return current.filter((value) => value !== undefined);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((item, index) => deepEqual(item, b[index]));
  if (isMap(a) && isMap(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && deepEqual(a[key], b[key]));
  }
  return false;
}

const SHOWN_CHARS = 80;

/** A value as JSON for a reason, cut at SHOWN_CHARS without serialising more of it than that. */
function show(value: unknown): string {
  let text = '';
  const write = (part: string) => {
    text += part;
    return text.length <= SHOWN_CHARS;
  };
  const walk = (item: unknown, depth: number): boolean => {
    if (Array.isArray(item)) {
      if (depth > 3) return write('[…]');
      if (!write('[')) return false;
      for (const [index, child] of item.entries()) if ((index > 0 && !write(',')) || !walk(child, depth + 1)) return false;
      return write(']');
    }
    if (isMap(item)) {
      if (depth > 3) return write('{…}');
      if (!write('{')) return false;
      for (const [index, [key, child]] of Object.entries(item).entries()) {
        if ((index > 0 && !write(',')) || !write(`${JSON.stringify(key.slice(0, SHOWN_CHARS))}:`) || !walk(child, depth + 1)) return false;
      }
      return write('}');
    }
    return write(typeof item === 'string' ? JSON.stringify(item.slice(0, SHOWN_CHARS)) : String(JSON.stringify(item) ?? item));
  };
  walk(value, 0);
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS - 1)}…` : text;
}

const SYMBOL: Record<FieldOperator, string> = { $eq: '=', $neq: '≠', $gt: '>', $gte: '≥', $lt: '<', $lte: '≤', $in: 'one of', $nin: 'none of', $exist: 'present', $regex: 'matching' };

function comparable(value: unknown, operand: unknown): boolean {
  return (typeof value === 'number' && typeof operand === 'number') || (typeof value === 'string' && typeof operand === 'string');
}

function compare(operator: '$gt' | '$gte' | '$lt' | '$lte', value: number | string, operand: number | string): boolean {
  switch (operator) {
    case '$gt':
      return value > operand;
    case '$gte':
      return value >= operand;
    case '$lt':
      return value < operand;
    case '$lte':
      return value <= operand;
  }
}

function runTest(test: Test, context: FilterContext, evaluation: Evaluation): Result {
  const values = resolve(context, test.segments);
  const items = values.flatMap((value) => (Array.isArray(value) ? value : [value]));
  const found = values.length === 0 ? `${test.path} is missing` : `${test.path} is ${show(values.length === 1 ? values[0] : values)}`;
  const { operator, operand } = test;
  const result = (match: boolean, why = `${found}, ${match ? '' : 'not '}${SYMBOL[operator]} ${show(operand)}`): Result => ({ match, why, at: test.path });
  const equal = () => (operand === null && values.length === 0) || values.some((value) => deepEqual(value, operand)) || items.some((item) => deepEqual(item, operand));
  const member = () => (operand as unknown[]).some((candidate) => values.some((value) => deepEqual(value, candidate)) || items.some((item) => deepEqual(item, candidate)));
  switch (operator) {
    case '$eq':
      return result(equal());
    case '$neq':
      return result(!equal(), `${found}, ${equal() ? '' : 'not '}= ${show(operand)}`);
    case '$in':
      return result(member());
    case '$nin':
      return result(!member(), `${found}, ${member() ? '' : 'not '}one of ${show(operand)}`);
    case '$exist': {
      const exists = values.length > 0;
      return result(exists === operand, exists ? `${test.path} is present (${show(values.length === 1 ? values[0] : values)})` : found);
    }
    case '$gt':
    case '$gte':
    case '$lt':
    case '$lte': {
      if (values.length === 0) return result(false, found);
      const usable = items.filter((item) => comparable(item, operand));
      if (usable.length === 0) return result(false, `${found}: not ${typeof operand === 'number' ? 'a number' : 'a text'} to compare with ${show(operand)}`);
      return result(usable.some((item) => compare(operator, item as number | string, operand as number | string)));
    }
    case '$regex': {
      if (values.length === 0) return result(false, found);
      const texts = items.filter((item): item is string => typeof item === 'string');
      if (texts.length === 0) return result(false, `${found}: not a text to match /${String(operand)}/`);
      let skipped = '';
      for (const text of texts) {
        if (text.length > FILTER_LIMITS.regexInputChars) {
          skipped = ` (a value over ${FILTER_LIMITS.regexInputChars} characters is not matched)`;
          continue;
        }
        if (text.length > evaluation.regexBudget) {
          skipped = ` (the ${FILTER_LIMITS.regexBudgetChars}-character budget of $regex per event is used up)`;
          continue;
        }
        evaluation.regexBudget -= text.length;
        if (test.regex!.test(text)) return result(true, `${found}, matching /${String(operand)}/`);
      }
      return result(false, `${found}, not matching /${String(operand)}/${skipped}`);
    }
  }
}

function evaluate(condition: Condition, context: FilterContext, evaluation: Evaluation): Result {
  switch (condition.kind) {
    case 'test':
      return runTest(condition, context, evaluation);
    case 'and': {
      const whys: string[] = [];
      for (const part of condition.conditions) {
        const result = evaluate(part, context, evaluation);
        if (!result.match) return result;
        whys.push(result.why);
      }
      return { match: true, why: whys.join('; '), at: '$and' };
    }
    case 'or': {
      const whys: string[] = [];
      for (const part of condition.conditions) {
        const result = evaluate(part, context, evaluation);
        if (result.match) return result;
        whys.push(result.why);
      }
      return { match: false, why: `none of $or matched: ${whys.join('; ')}`, at: '$or' };
    }
    case 'not': {
      const result = evaluate(condition.condition, context, evaluation);
      return result.match ? { match: false, why: `$not: ${result.why}`, at: '$not' } : { match: true, why: `$not: ${result.why}`, at: '$not' };
    }
  }
}

/** Evaluates a parsed filter on an event. Never throws for any event data. */
export function evaluateFilter(filter: EventFilter, context: FilterContext): FilterVerdict {
  const result = evaluate(filter.condition, context, { regexBudget: FILTER_LIMITS.regexBudgetChars });
  return result.match ? { pass: true, reason: result.why } : { pass: false, reason: result.why, at: result.at };
}

/** The filter's view of an event delivered to a webhook. */
export function filterContext(webhook: Pick<WebhookConfig, 'id' | 'name'>, event: EventMessage): FilterContext {
  return { event: { id: event.id, type: event.type, accountId: event.accountId, occurredAt: event.occurredAt }, data: event.data, webhook: { id: webhook.id, name: webhook.name } };
}

/**
 * Whether the webhook wants this event: the one function the dispatcher, `hookshape preview` and the
 * API's preview call. A webhook without a filter takes every event of its types.
 */
export function filterEvent(webhook: Pick<WebhookConfig, 'id' | 'name' | 'filter'>, event: EventMessage): FilterVerdict {
  if (!webhook.filter) return { pass: true, reason: 'the webhook has no filter' };
  return evaluateFilter(webhook.filter, filterContext(webhook, event));
}
