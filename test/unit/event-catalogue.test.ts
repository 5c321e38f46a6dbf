import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  EVENT_CATALOGUE,
  EVENT_ENVELOPE_VARIABLES,
  EVENT_TYPES,
  isEventType,
  isOperationalEventType,
  OPERATIONAL_EVENT_TYPES,
  PLATFORM_EVENT_TYPES,
  sampleEvent,
} from '../../functions/src/events/event-catalogue.ts';
import type { EventType, EventVariable } from '../../functions/src/events/event-catalogue.ts';
import {
  EVENTS_DOC_PATH,
  extractCatalogueSection,
  formatJson,
  renderEventCatalogueMarkdown,
  replaceCatalogueSection,
} from '../../scripts/event-docs.ts';

/** The platform's event list (Nombre | Descripción), in order, with the type each maps to. */
const SEED: ReadonlyArray<readonly [EventType, string, string]> = [
  ['queue.created', 'Nueva fila', 'Una nueva fila ha sido creada'],
  ['queue.abandoned', 'Fila abandonada', 'El cliente ha abandonado la fila'],
  ['call.created', 'Llamada creada', 'Se ha creado una nueva llamada contestada'],
  ['user.connected', 'Usuario conectado', 'Un agente se ha conectado a su cuenta'],
  ['user.disconnected', 'Usuario desconectado', 'Un agente se ha desconectado de su cuenta'],
  ['user.created', 'Nuevo usuario', 'Se ha creado un nuevo agente en su cuenta'],
  ['user.deleted', 'Usuario eliminado', 'Se ha eliminado un agente de su cuenta'],
  ['user.updated', 'Usuario editado', 'Se ha editado información de un agente de su cuenta'],
  ['form.updated', 'Formulario editado', 'Se ha editado información de un formulario de su cuenta'],
  ['form.deleted', 'Formulario eliminado', 'Se ha eliminado un formulario de su cuenta'],
  ['form.created', 'Nuevo formulario', 'Se ha creado un formulario en su cuenta'],
  ['form.received', 'Formulario recibido', 'Se ha recibido un nuevo formulario de un cliente'],
  ['segment.updated', 'Segmento editado', 'Se ha editado información de un segmento de su cuenta'],
  ['segment.deleted', 'Segmento eliminado', 'Se ha eliminado un segmento de su cuenta'],
  ['segment.created', 'Nuevo segmento', 'Se ha creado un nuevo segmento en su cuenta'],
  ['comment.created', 'Nuevo comentario', 'Se ha creado un nuevo comentario en una llamada'],
  ['agent_form.submitted', 'Formulario agente', 'Formulario rellenado por el agente'],
  ['survey.received', 'Encuesta recibida', 'Encuesta enviada por el cliente a finalizar una llamada'],
  ['recording.created', 'Nueva grabación', 'Nueva grabación recibida'],
  ['recording.approved', 'Grabación aprobada', 'Grabación aprobada por un revisor o administrador.'],
  ['recording.rejected', 'Grabación rechazada', 'Grabación rechazada por un revisor o administrador.'],
  ['recording.deleted', 'Grabación eliminada', 'Grabación eliminada por un administrador.'],
  ['meeting.created', 'Nueva reunión', 'Nueva reunión agendada.'],
  ['meeting.cancelled', 'Reunión cancelada', 'Una reunión ha sido cancelada.'],
  ['meeting.reminder', 'Recordatorio reunión', 'Se debe enviar un recordatorio de reunión'],
  ['qms_ticket.notified', 'Notificación ticket QMS', 'Notificación de ticket asignado a QMS'],
];

/** hookshape's own events (issue 17), after the platform's: names given here, not by the seed. */
const OPERATIONAL: ReadonlyArray<readonly [EventType, string, string]> = [
  ['hookshape.delivery.failed', 'Entrega fallida', 'Una entrega de webhook ha fallado definitivamente'],
  ['hookshape.webhook.disabled', 'Webhook desactivado', 'Un webhook ha sido desactivado automáticamente'],
  ['hookshape.webhook.invalid', 'Webhook inválido', 'La validación de un webhook ha fallado'],
  ['hookshape.event.dead_lettered', 'Evento descartado', 'Un evento no pudo ser distribuido y pasó al tema de mensajes fallidos'],
];

/** Expected id prefix of an `id` field, by the key of the object (or array) holding it. */
const ID_PREFIX_BY_PARENT: Readonly<Record<string, string>> = {
  call: 'call_',
  queue: 'que_',
  agent: 'usr_',
  user: 'usr_',
  actor: 'usr_',
  author: 'usr_',
  reviewer: 'usr_',
  agents: 'usr_',
  form: 'frm_',
  segment: 'seg_',
  segments: 'seg_',
  recording: 'rec_',
  meeting: 'mtg_',
  ticket: 'qms_',
  comment: 'cmt_',
  survey: 'svy_',
  // The operational events' samples: the account's webhook `crm-calls` and its delivery of an event.
  webhook: 'crm-calls',
  delivery: 'crm-calls/evt_',
  event: 'evt_',
};

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/;

/** Walks `data.a.b[].c` into the sample; `[]` goes into the first item. */
function resolvePath(sample: unknown, path: string): { found: boolean; value: unknown } {
  const segments = path.split('.');
  if (segments[0] !== 'data') return { found: false, value: undefined };
  let current: unknown = sample;
  for (const segment of segments.slice(1)) {
    const match = /^([^[\]]+)((?:\[\])*)$/.exec(segment);
    if (!match || match[1] === undefined) return { found: false, value: undefined };
    if (current === null || typeof current !== 'object' || Array.isArray(current) || !Object.hasOwn(current, match[1])) {
      return { found: false, value: undefined };
    }
    current = (current as Record<string, unknown>)[match[1]];
    for (let i = 0; i < (match[2] ?? '').length / 2; i++) {
      if (!Array.isArray(current) || current.length === 0) return { found: false, value: undefined };
      current = current[0];
    }
  }
  return { found: true, value: current };
}

/** The paths that must be documented: every leaf, every array, and the `[]` items of arrays (first item). */
function documentablePaths(value: unknown, path: string, out: string[] = []): string[] {
  if (Array.isArray(value)) {
    out.push(path);
    if (value.length > 0) documentablePaths(value[0], `${path}[]`, out);
  } else if (value !== null && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) documentablePaths(child, `${path}.${key}`, out);
  } else {
    out.push(path);
  }
  return out;
}

function actualType(value: unknown): EventVariable['type'] | 'other' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'string') return ISO_DATETIME.test(value) ? 'datetime' : 'string';
  if (typeof value === 'number') return 'number';
  if (typeof value === 'boolean') return 'boolean';
  if (typeof value === 'object') return 'object';
  return 'other';
}

/** Every `{ id, ... }` object in the sample, with the key it hangs from (array items: the array's key). */
function objectsWithIds(value: unknown, parentKey: string, out: Array<{ parentKey: string; obj: Record<string, unknown> }> = []) {
  if (Array.isArray(value)) {
    for (const item of value) objectsWithIds(item, parentKey, out);
  } else if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    if ('id' in obj) out.push({ parentKey, obj });
    for (const [key, child] of Object.entries(obj)) objectsWithIds(child, key, out);
  }
  return out;
}

test('the platform events are exactly the 26 seed events, in seed order; hookshape\'s own follow', () => {
  assert.deepEqual([...PLATFORM_EVENT_TYPES], SEED.map(([type]) => type));
  assert.equal(PLATFORM_EVENT_TYPES.length, 26);
  assert.deepEqual([...OPERATIONAL_EVENT_TYPES], OPERATIONAL.map(([type]) => type));
  assert.deepEqual([...EVENT_TYPES], [...SEED, ...OPERATIONAL].map(([type]) => type));
  assert.deepEqual(Object.keys(EVENT_CATALOGUE), [...EVENT_TYPES]);
});

test('operational events are exactly the hookshape.* types (the no-loop rule keys on the prefix)', () => {
  for (const type of EVENT_TYPES) assert.equal(isOperationalEventType(type), (OPERATIONAL_EVENT_TYPES as readonly string[]).includes(type), type);
});

test('isEventType accepts the catalogue types only', () => {
  for (const type of EVENT_TYPES) assert.equal(isEventType(type), true);
  for (const value of ['call', 'Call.Created', 'call.created ', '', 42, null, undefined, {}, ['call.created']]) {
    assert.equal(isEventType(value), false, String(value));
  }
});

test('envelope variables document event.* and webhook.*', () => {
  assert.deepEqual(
    EVENT_ENVELOPE_VARIABLES.map((v) => v.path),
    ['event.id', 'event.type', 'event.accountId', 'event.occurredAt', 'webhook.id', 'webhook.name'],
  );
  for (const v of EVENT_ENVELOPE_VARIABLES) assert.ok(v.description.trim().length > 0, v.path);
});

for (const [type, seedName, seedDescription] of [...SEED, ...OPERATIONAL]) {
  test(`${type}`, async (t) => {
    const def = EVENT_CATALOGUE[type];

    await t.test('names and descriptions', () => {
      assert.equal(def.type, type);
      assert.equal(def.seedName, seedName);
      assert.equal(def.seedDescription, seedDescription);
      assert.ok(def.description.trim().length > 20, 'English description');
      assert.ok(def.variables.length > 0);
    });

    await t.test('every documented variable resolves in the sample, with its type', () => {
      const seen = new Set<string>();
      for (const variable of def.variables) {
        assert.ok(!seen.has(variable.path), `${variable.path} documented twice`);
        seen.add(variable.path);
        assert.ok(variable.description.trim().length > 0, `${variable.path} has no description`);
        const { found, value } = resolvePath(def.sample, variable.path);
        assert.ok(found, `${variable.path} is not in the sample`);
        assert.equal(actualType(value), variable.type, `${variable.path} type`);
      }
    });

    await t.test('every leaf and array of the sample is documented', () => {
      const documented = new Set(def.variables.map((v) => v.path));
      const undocumented = documentablePaths(def.sample, 'data').filter((path) => !documented.has(path));
      assert.deepEqual(undocumented, []);
    });

    await t.test('sample is small JSON with ISO datetimes', () => {
      const json = JSON.stringify(def.sample);
      assert.deepEqual(JSON.parse(json), def.sample);
      assert.ok(Buffer.byteLength(json) < 2048, `${Buffer.byteLength(json)} bytes`);
      for (const path of documentablePaths(def.sample, 'data')) {
        const { value } = resolvePath(def.sample, path);
        if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}/.test(value)) {
          assert.match(value, ISO_DATETIME, path);
          assert.ok(!Number.isNaN(Date.parse(value)), path);
        }
      }
    });

    await t.test('ids carry the prefix of their kind', () => {
      for (const { parentKey, obj } of objectsWithIds(def.sample, 'data')) {
        const prefix = ID_PREFIX_BY_PARENT[parentKey];
        assert.ok(prefix !== undefined, `no id prefix known for "${parentKey}"`);
        assert.equal(typeof obj.id, 'string');
        assert.ok(String(obj.id).startsWith(prefix), `${parentKey}.id ${String(obj.id)} should start with ${prefix}`);
      }
    });

    await t.test('sampleEvent returns a valid envelope with a copy of the sample', () => {
      const event = sampleEvent(type);
      assert.deepEqual(Object.keys(event).sort(), ['accountId', 'data', 'id', 'occurredAt', 'type']);
      assert.equal(event.id, `evt_sample_${type.replace(/[._]/g, '_')}`);
      assert.equal(event.type, type);
      assert.equal(event.accountId, 'acc_demo');
      assert.match(event.occurredAt, ISO_DATETIME);
      assert.deepEqual(event.data, def.sample);
      assert.notEqual(event.data, def.sample);
      assert.equal(sampleEvent(type, 'acc_other').accountId, 'acc_other');
      assert.deepEqual(sampleEvent(type), event, 'deterministic');
    });
  });
}

test('call.created is the showcase: full call, people, tags, metadata and recording', () => {
  const { data } = sampleEvent('call.created');
  const call = data.call as Record<string, unknown>;
  for (const key of ['id', 'startedAt', 'answeredAt', 'endedAt', 'durationSeconds', 'channel']) {
    assert.ok(key in call, `call.${key}`);
  }
  assert.equal(call.channel, 'video');
  assert.equal(
    call.durationSeconds,
    (Date.parse(String(call.endedAt)) - Date.parse(String(call.answeredAt))) / 1000,
    'durationSeconds is the time from answer to end',
  );
  assert.deepEqual(Object.keys(data.queue as object), ['id', 'name']);
  assert.deepEqual(Object.keys(data.agent as object), ['id', 'name', 'email']);
  assert.deepEqual(Object.keys(data.customer as object), ['name', 'email', 'phone']);
  assert.ok(Array.isArray(data.tags) && data.tags.every((tag) => typeof tag === 'string'));
  assert.ok(Object.values(data.metadata as object).every((value) => typeof value === 'string'));
  assert.match(String((data.recording as Record<string, unknown>).url), /^https:\/\//);
});

test('samples are consistent: an id means the same name and email everywhere; shared shapes agree', () => {
  const byId = new Map<string, Record<string, unknown>>();
  const customers = new Map<string, Record<string, unknown>>();
  for (const type of EVENT_TYPES) {
    const sample = EVENT_CATALOGUE[type].sample;
    for (const { obj } of objectsWithIds(sample, 'data')) {
      const id = String(obj.id);
      const known = byId.get(id);
      if (known) {
        for (const key of ['name', 'email', 'url', 'startedAt'] as const) {
          if (key in obj && key in known) assert.equal(obj[key], known[key], `${type}: ${id}.${key}`);
        }
      } else {
        byId.set(id, obj);
      }
    }
    const customer = sample.customer as Record<string, unknown> | undefined;
    if (customer) {
      assert.deepEqual(Object.keys(customer), ['name', 'email', 'phone'], `${type}: customer shape`);
      const known = customers.get(String(customer.email));
      if (known) assert.deepEqual(customer, known, `${type}: customer ${String(customer.email)}`);
      customers.set(String(customer.email), customer);
      assert.match(String(customer.phone), /^\+\d{8,15}$/, `${type}: phone in E.164`);
    }
    for (const key of ['agent', 'user', 'actor', 'author', 'reviewer']) {
      const person = sample[key] as Record<string, unknown> | undefined;
      if (person) assert.deepEqual(Object.keys(person).slice(0, 3), ['id', 'name', 'email'], `${type}: ${key} shape`);
    }
    const meeting = sample.meeting as Record<string, unknown> | undefined;
    if (meeting) {
      for (const key of ['startsAt', 'endsAt', 'joinUrl', 'timezone']) assert.ok(key in meeting, `${type}: meeting.${key}`);
    }
  }
  const all = JSON.stringify(Object.values(EVENT_CATALOGUE).map((def) => def.sample));
  assert.match(all, /José Muñoz/);
  assert.match(all, /Conceição/);
});

test('the catalogue cannot be mutated through sampleEvent or directly', () => {
  const event = sampleEvent('call.created');
  (event.data.call as Record<string, unknown>).id = 'changed';
  assert.equal((EVENT_CATALOGUE['call.created'].sample.call as Record<string, unknown>).id, 'call_8GkT2pXq');
  assert.throws(() => {
    (EVENT_CATALOGUE['call.created'].sample as Record<string, unknown>).extra = 1;
  }, TypeError);
});

test('docs/events.md catalogue section equals renderEventCatalogueMarkdown() (run: node scripts/event-docs.ts --write)', () => {
  const doc = readFileSync(EVENTS_DOC_PATH, 'utf8');
  assert.equal(extractCatalogueSection(doc), renderEventCatalogueMarkdown());
});

test('the generated Markdown documents every event and variable as Liquid', () => {
  const markdown = renderEventCatalogueMarkdown();
  for (const word of ['`event`', '`data`', '`webhook`', '`secrets`']) assert.ok(markdown.includes(word), word);
  for (const v of EVENT_ENVELOPE_VARIABLES) assert.ok(markdown.includes(`\`{{ ${v.path} }}\``), v.path);
  for (const type of EVENT_TYPES) {
    assert.ok(markdown.includes(`### \`${type}\``), type);
    assert.ok(markdown.includes(EVENT_CATALOGUE[type].seedName), `${type} seed name`);
  }
  assert.ok(markdown.includes('`{{ data.call.id }}`'));
  assert.ok(markdown.includes('`{{ data.form.fields[0].label }}`'));
  assert.equal(markdown.split('<details><summary>Sample</summary>').length - 1, EVENT_TYPES.length);
});

test('formatJson is valid JSON equal to the input, short values on one line', () => {
  for (const type of EVENT_TYPES) {
    const sample = EVENT_CATALOGUE[type].sample;
    const text = formatJson(sample);
    assert.deepEqual(JSON.parse(text), sample, type);
    for (const line of text.split('\n')) assert.ok(line.length <= 100 || !line.includes('{ '), `${type}: ${line}`);
  }
  assert.equal(formatJson({ a: [1, 'x'], b: {}, c: [], d: null }), '{ "a": [1, "x"], "b": {}, "c": [], "d": null }');
  assert.equal(formatJson({ a: 'x'.repeat(50), b: 'y'.repeat(50) }, 40), `{\n  "a": "${'x'.repeat(50)}",\n  "b": "${'y'.repeat(50)}"\n}`);
});

test('replaceCatalogueSection only touches the text between the markers', () => {
  const readme = '# T\n\nbefore\n<!-- event-catalogue:start -->\nold\nstuff\n<!-- event-catalogue:end -->\nafter\n';
  const updated = replaceCatalogueSection(readme, 'new');
  assert.equal(updated, '# T\n\nbefore\n<!-- event-catalogue:start -->\nnew\n<!-- event-catalogue:end -->\nafter\n');
  assert.equal(extractCatalogueSection(updated), 'new');
  assert.equal(replaceCatalogueSection(updated, 'new'), updated);
  assert.throws(() => replaceCatalogueSection('# no markers\n', 'x'));
});
