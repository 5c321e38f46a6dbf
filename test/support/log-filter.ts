/**
 * An evaluator for the subset of the Cloud Logging query language that terraform/metrics.tf uses, so
 * tests can check that each log-based metric's filter matches lines the built functions really write.
 *
 * Supported: AND, OR, NOT, parentheses; comparisons `=`, `!=`, `>`, `>=`, `<`, `<=` and `:` (has:
 * substring, case-insensitive; `:*` = the field is present); fields `severity`, `resource.type`,
 * `resource.labels.X`, `jsonPayload.a.b`; values quoted ("...") or bare (words, numbers, true/false).
 * Severity compares by rank (DEBUG < INFO < NOTICE < WARNING < ERROR...). Numbers compare as numbers
 * when both sides are numbers. A missing field matches nothing but `NOT ...` (so `!=` on a missing field
 * is false, the conservative reading). Anything else is a parse error: a filter that uses more of the
 * language must extend this evaluator (and its table test), not slip past it.
 */

export interface LogEntryModel {
  severity: string;
  jsonPayload: Record<string, unknown>;
  resource: { type: string; labels: Record<string, string> };
}

/** Cloud Logging's special fields of a structured stdout line: lifted out of jsonPayload into the entry. */
const SPECIAL_FIELDS = new Set(['severity', 'time', 'timestamp', 'timestampSeconds', 'timestampNanos', 'httpRequest']);

/**
 * A line the function wrote to stdout as Cloud Logging ingests it: `severity` and `time` become the
 * entry's, `logging.googleapis.com/*` fields become trace/spanId/labels; the rest (message included) is
 * jsonPayload. The resource cannot come from a local run: the caller gives it (the tests derive it from
 * which function wrote the line, as Terraform names that function's Cloud Run service).
 */
export function entryFromLine(line: Record<string, unknown>, resource: LogEntryModel['resource'], localFields: readonly string[] = []): LogEntryModel {
  const jsonPayload: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(line)) {
    if (SPECIAL_FIELDS.has(key) || key.startsWith('logging.googleapis.com/') || localFields.includes(key)) continue;
    jsonPayload[key] = value;
  }
  return { severity: String(line['severity'] ?? 'DEFAULT'), jsonPayload, resource };
}

const SEVERITIES = ['DEFAULT', 'DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY'];

type Token = { kind: 'op' | 'word' | 'string' | 'paren'; text: string };

export class FilterSyntaxError extends Error {
  override name = 'FilterSyntaxError';
}

function tokenize(filter: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < filter.length) {
    const c = filter[i]!;
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: 'paren', text: c });
      i += 1;
    } else if (c === '"') {
      let text = '';
      i += 1;
      while (i < filter.length && filter[i] !== '"') {
        if (filter[i] === '\\' && i + 1 < filter.length) i += 1;
        text += filter[i];
        i += 1;
      }
      if (filter[i] !== '"') throw new FilterSyntaxError(`unterminated string in ${filter}`);
      i += 1;
      tokens.push({ kind: 'string', text });
    } else if (/[=!<>:]/.test(c)) {
      const two = filter.slice(i, i + 2);
      const op = ['!=', '>=', '<=', '=~', '!~'].includes(two) ? two : c;
      if (op === '=~' || op === '!~' || op === '!') throw new FilterSyntaxError(`operator ${op} is not supported by this evaluator`);
      tokens.push({ kind: 'op', text: op });
      i += op.length;
    } else {
      const match = /^[^\s()"=!<>:]+/.exec(filter.slice(i));
      if (!match) throw new FilterSyntaxError(`unexpected ${c} in ${filter}`);
      tokens.push({ kind: 'word', text: match[0] });
      i += match[0].length;
    }
  }
  return tokens;
}

export type FilterNode =
  | { kind: 'and' | 'or'; terms: FilterNode[] }
  | { kind: 'not'; term: FilterNode }
  | { kind: 'compare'; field: string; op: string; value: string; quoted: boolean };

export function parseFilter(filter: string): FilterNode {
  const tokens = tokenize(filter);
  let pos = 0;
  const peek = () => tokens[pos];
  const isWord = (text: string) => peek()?.kind === 'word' && peek()!.text === text;
  const orExpr = (): FilterNode => {
    const terms = [andExpr()];
    while (isWord('OR')) {
      pos += 1;
      terms.push(andExpr());
    }
    return terms.length === 1 ? terms[0]! : { kind: 'or', terms };
  };
  const andExpr = (): FilterNode => {
    const terms = [unary()];
    while (isWord('AND')) {
      pos += 1;
      terms.push(unary());
    }
    if (peek() && !(peek()!.kind === 'paren' && peek()!.text === ')') && !isWord('OR')) {
      throw new FilterSyntaxError(`expected AND or OR before '${peek()!.text}' (implicit AND is not supported here): ${filter}`);
    }
    return terms.length === 1 ? terms[0]! : { kind: 'and', terms };
  };
  const unary = (): FilterNode => {
    if (isWord('NOT')) {
      pos += 1;
      return { kind: 'not', term: unary() };
    }
    const token = peek();
    if (token?.kind === 'paren' && token.text === '(') {
      pos += 1;
      const inner = orExpr();
      if (peek()?.text !== ')') throw new FilterSyntaxError(`missing ) in ${filter}`);
      pos += 1;
      return inner;
    }
    if (token?.kind !== 'word' || !/^(severity|resource\.type|resource\.labels\.\w+|jsonPayload(\.\w+)+)$/.test(token.text)) {
      throw new FilterSyntaxError(`expected a field (severity, resource.type, resource.labels.X, jsonPayload.X), got '${token?.text ?? 'the end'}': ${filter}`);
    }
    pos += 1;
    const op = peek();
    if (op?.kind !== 'op') throw new FilterSyntaxError(`expected an operator after ${token.text}: ${filter}`);
    pos += 1;
    const value = peek();
    if (value?.kind !== 'word' && value?.kind !== 'string') throw new FilterSyntaxError(`expected a value after ${token.text}${op.text}: ${filter}`);
    pos += 1;
    return { kind: 'compare', field: token.text, op: op.text, value: value.text, quoted: value.kind === 'string' };
  };
  const node = orExpr();
  if (pos !== tokens.length) throw new FilterSyntaxError(`unexpected '${tokens[pos]!.text}' in ${filter}`);
  return node;
}

function fieldValue(entry: LogEntryModel, field: string): unknown {
  if (field === 'severity') return entry.severity;
  if (field === 'resource.type') return entry.resource.type;
  if (field.startsWith('resource.labels.')) return entry.resource.labels[field.slice('resource.labels.'.length)];
  let value: unknown = entry.jsonPayload;
  for (const key of field.split('.').slice(1)) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

const isNumber = (text: string) => text.trim() !== '' && Number.isFinite(Number(text));

function compare(node: Extract<FilterNode, { kind: 'compare' }>, entry: LogEntryModel): boolean {
  const actual = fieldValue(entry, node.field);
  if (node.op === ':' && node.value === '*' && !node.quoted) return actual !== undefined && actual !== null;
  if (actual === undefined || actual === null || typeof actual === 'object') return false;
  const text = String(actual);
  if (node.op === ':') return text.toLowerCase().includes(node.value.toLowerCase());
  let order: number;
  if (node.field === 'severity') {
    const [a, b] = [SEVERITIES.indexOf(text.toUpperCase()), SEVERITIES.indexOf(node.value.toUpperCase())];
    if (b < 0) throw new FilterSyntaxError(`unknown severity ${node.value}`);
    order = a - b;
  } else if (typeof actual === 'number' && isNumber(node.value)) {
    order = actual - Number(node.value);
  } else {
    order = text === node.value ? 0 : text < node.value ? -1 : 1;
  }
  switch (node.op) {
    case '=':
      return order === 0;
    case '!=':
      return order !== 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    default:
      throw new FilterSyntaxError(`operator ${node.op}`);
  }
}

export function evaluate(node: FilterNode, entry: LogEntryModel): boolean {
  switch (node.kind) {
    case 'and':
      return node.terms.every((term) => evaluate(term, entry));
    case 'or':
      return node.terms.some((term) => evaluate(term, entry));
    case 'not':
      return !evaluate(node.term, entry);
    case 'compare':
      return compare(node, entry);
  }
}

export const matches = (filter: string, entry: LogEntryModel): boolean => evaluate(parseFilter(filter), entry);

/** `EXTRACT(jsonPayload.x)` of a label or value extractor, for an entry (undefined when absent). */
export function extract(extractor: string, entry: LogEntryModel): unknown {
  const match = /^EXTRACT\(([\w.]+)\)$/.exec(extractor.trim());
  if (!match?.[1]) throw new FilterSyntaxError(`only EXTRACT(field) extractors are supported here, got ${extractor}`);
  return fieldValue(entry, match[1]);
}
