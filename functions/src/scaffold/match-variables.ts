/**
 * Which catalogue variable best fills one field of a receiver's example: by the field's name (and its
 * parents'), the variable's type, and the example value against the variable's sample (equal values,
 * or the same shape: an email for an email, a word for a word). Pure: a table of scores, no I/O.
 */
import { EVENT_CATALOGUE, EVENT_ENVELOPE_VARIABLES, sampleEvent, type EventType, type EventVariable } from '../events/event-catalogue.ts';
import { nameTokens } from './name-tokens.ts';

/** What the example says about a value: its JSON type, or `text` where the format has no types (XML, form, CSV). */
export type SlotType = 'string' | 'number' | 'boolean' | 'null' | 'array' | 'text';

export interface Slot {
  /** The field's own name: a JSON key, an element or attribute, a form or CSV column name. */
  key: string;
  /** Names of the enclosing objects or elements, outermost first. */
  parents: readonly string[];
  type: SlotType;
  /** The example's value (arrays: their items). */
  value: unknown;
}

/** How the variable's value is turned into the field's: as it is, or a part of a full name. */
export type Derivation = 'none' | 'first-word' | 'last-word' | 'epoch-seconds' | 'join' | 'json';

export interface VariableMatch {
  variable: string;
  type: EventVariable['type'];
  derivation: Derivation;
  score: number;
}

interface Candidate {
  path: string;
  type: EventVariable['type'];
  sample: unknown;
  leaf: string[];
  context: string[];
  order: number;
}

/** Tokens that add nothing to a field name: `phone_number`, `email_address`, `full_name`. */
const FILLER = new Set(['number', 'address', 'value', 'field', 'full', 'the', 'of', 'primary', 'main', 'str', 'txt']);
const ROLES = new Set(['customer', 'agent']);
export const MIN_SCORE = 2.5;

function valueAt(root: unknown, path: string): unknown {
  let current = root;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

const cache = new Map<EventType, Candidate[]>();

/** The variables of an event type a field can take: leaves and arrays of its data, then the envelope. */
export function candidates(eventType: EventType): Candidate[] {
  const known = cache.get(eventType);
  if (known) return known;
  const event = sampleEvent(eventType);
  const context = { event: { id: event.id, type: event.type, accountId: event.accountId, occurredAt: event.occurredAt }, data: event.data };
  const variables: EventVariable[] = [...EVENT_CATALOGUE[eventType].variables, ...EVENT_ENVELOPE_VARIABLES.filter((variable) => variable.path.startsWith('event.'))];
  const list = variables
    .filter((variable) => !variable.path.includes('[]') && variable.type !== 'object' && variable.type !== 'null')
    .map((variable, order): Candidate => {
      const segments = variable.path.split('.').slice(1);
      return {
        path: variable.path,
        type: variable.type,
        sample: valueAt(context, variable.path),
        leaf: nameTokens(segments.at(-1)!),
        context: [...segments.slice(0, -1).flatMap(nameTokens), ...(variable.path.startsWith('event.') ? ['event'] : [])],
        order,
      };
    });
  cache.set(eventType, list);
  return list;
}

export type Shape = 'email' | 'url' | 'datetime' | 'phone' | 'number' | 'boolean' | 'id' | 'words' | 'neutral';

const PLACEHOLDER = /^(?:string|text|value|example|sample|test|x+|\?+|<[^>]*>|\{[^}]*\}|\$\{[^}]*\}|your[_ -]?\w*|null|none|n\/a)$/i;

/** The kind of value an example or a sample holds, to compare one with the other. */
export function shapeOf(value: unknown): Shape {
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value !== 'string') return 'neutral';
  const text = value.trim();
  if (text === '' || PLACEHOLDER.test(text)) return 'neutral';
  if (/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(text)) return 'email';
  if (/^https?:\/\//i.test(text)) return 'url';
  if (/^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/.test(text)) return 'datetime';
  if (/^-?\d+(?:\.\d+)?$/.test(text)) return 'number';
  if (/^(?:true|false)$/i.test(text)) return 'boolean';
  if (/^\+?[\d\s().-]{7,}$/.test(text) && text.replace(/\D/g, '').length >= 7) return 'phone';
  if (/^[A-Za-z0-9_.:-]+$/.test(text) && /\d/.test(text) && /[A-Za-z]/.test(text)) return 'id';
  return 'words';
}

/** Whether (and how) a variable of this type can fill the slot, and what that costs. */
function fit(slot: Slot, candidate: Candidate): { derivation: Derivation; cost: number } | undefined {
  const type = candidate.type;
  switch (slot.type) {
    case 'array':
      return type === 'array' ? { derivation: 'json', cost: 0 } : undefined;
    case 'number':
      if (type === 'number') return { derivation: 'json', cost: 0 };
      // An epoch timestamp in the example, a date-time in the catalogue.
      if (type === 'datetime' && typeof slot.value === 'number' && slot.value > 1e9 && slot.value < 1e11) return { derivation: 'epoch-seconds', cost: 0.5 };
      return undefined;
    case 'boolean':
      return type === 'boolean' ? { derivation: 'json', cost: 0 } : undefined;
    case 'null':
      return type === 'array' ? { derivation: 'json', cost: 0.5 } : { derivation: 'json', cost: 0 };
    case 'string':
    case 'text':
      if (type === 'array') return { derivation: 'join', cost: 1 };
      if (slot.type === 'string' && (type === 'number' || type === 'boolean')) return { derivation: 'none', cost: 0.5 };
      return { derivation: 'none', cost: 0 };
  }
}

function sameValue(example: unknown, sample: unknown): boolean {
  if (example === undefined || example === null || sample === undefined || sample === null) return false;
  if (typeof example === 'string' && typeof sample === 'string') return example.trim() !== '' && example.trim().toLowerCase() === sample.toLowerCase();
  if (Array.isArray(example) && Array.isArray(sample)) return JSON.stringify(example) === JSON.stringify(sample);
  return String(example) === String(sample);
}

/** The score of one variable for one slot; undefined when it cannot fill it at all. */
export function scoreMatch(slot: Slot, candidate: Candidate): VariableMatch | undefined {
  const fitted = fit(slot, candidate);
  if (!fitted) return undefined;
  const key = nameTokens(slot.key);
  const parents = new Set(slot.parents.flatMap(nameTokens));
  let derivation = fitted.derivation;
  const nameLeaf = candidate.leaf.length === 1 && candidate.leaf[0] === 'name' && (candidate.type === 'string');
  // first_name / last_name from a full name: the part, not the whole.
  if (nameLeaf && key.includes('name') && (key.includes('first') || key.includes('last')) && derivation === 'none') derivation = key.includes('first') ? 'first-word' : 'last-word';
  const derived = derivation === 'first-word' ? 'first' : derivation === 'last-word' ? 'last' : undefined;

  const matchedLeaf = candidate.leaf.filter((token) => key.includes(token));
  const equal = sameValue(slot.value, candidate.sample);
  if (matchedLeaf.length === 0 && !equal) return undefined;
  // The envelope's id, type and account are the event's: a field must say so (event_id, eventType);
  // its time is any field that is only a time (timestamp, created_at).
  if (candidate.path.startsWith('event.') && !equal && !key.includes('event') && !parents.has('event') && !(candidate.path === 'event.occurredAt' && key.every((token) => token === 'time' || token === 'creat' || token === 'created' || token === 'occurr'))) return undefined;

  let score = 3 * matchedLeaf.length - 0.5 * (candidate.leaf.length - matchedLeaf.length) - fitted.cost;
  for (const token of new Set(key)) {
    if (candidate.leaf.includes(token) || token === derived || FILLER.has(token)) continue;
    score += candidate.context.includes(token) ? 2 : -2;
  }
  score += Math.min(2, [...parents].filter((token) => candidate.context.includes(token)).length);
  if (equal) score += 5;
  const exampleShape = shapeOf(Array.isArray(slot.value) ? slot.value[0] : slot.value);
  const sampleShape = derived ? shapeOf(String(candidate.sample ?? '').split(' ')[0]) : shapeOf(Array.isArray(candidate.sample) ? candidate.sample[0] : candidate.sample);
  if (exampleShape !== 'neutral' && sampleShape !== 'neutral' && derivation !== 'epoch-seconds') score += exampleShape === sampleShape ? 1 : -2;
  // Ties: a person's name, email or phone with no role named is the customer's, the event's subject.
  const roleNamed = [...key, ...parents].some((token) => ROLES.has(token));
  if (!roleNamed && candidate.context.includes('customer')) score += 0.3;
  score -= candidate.order * 0.001;
  return { variable: candidate.path, type: candidate.type, derivation, score: Math.round(score * 1000) / 1000 };
}

/** The best variable for the slot, or undefined when none scores MIN_SCORE. */
export function bestMatch(eventType: EventType, slot: Slot): VariableMatch | undefined {
  let best: VariableMatch | undefined;
  for (const candidate of candidates(eventType)) {
    const match = scoreMatch(slot, candidate);
    if (match && match.score >= MIN_SCORE && (!best || match.score > best.score)) best = match;
  }
  return best;
}
