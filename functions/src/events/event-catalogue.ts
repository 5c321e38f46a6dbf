/**
 * The event catalogue: every event type the contact-centre platform emits, what it means, the
 * template variables a webhook can use for it, and a realistic sample `data` payload.
 *
 * Pure data, no dependencies: the dispatcher, the webhook editor's preview, the docs generator
 * (scripts/event-docs.ts) and the tests all read it. The list of types and their Spanish names come
 * from the platform's public event list and are a contract: never rename a type.
 *
 * Samples tell one consistent story (account `acc_demo`, 14 March 2025, times in UTC): the agent
 * José Muñoz answers a video call from Maria da Conceição, who queued for "Ventas hogar"; the same
 * people, ids and shapes appear in every event that mentions them.
 */

/** The platform's events: the seed list, in its order. */
export const PLATFORM_EVENT_TYPES = [
  'queue.created',
  'queue.abandoned',
  'call.created',
  'user.connected',
  'user.disconnected',
  'user.created',
  'user.deleted',
  'user.updated',
  'form.updated',
  'form.deleted',
  'form.created',
  'form.received',
  'segment.updated',
  'segment.deleted',
  'segment.created',
  'comment.created',
  'agent_form.submitted',
  'survey.received',
  'recording.created',
  'recording.approved',
  'recording.rejected',
  'recording.deleted',
  'meeting.created',
  'meeting.cancelled',
  'meeting.reminder',
  'qms_ticket.notified',
] as const;

/**
 * hookshape's own operational events (events/operational-events.ts builds them): published to the
 * operations topic and dispatched like any event, so an account's webhook can subscribe to its own
 * failures. The `hookshape.` prefix is what the no-loop rule keys on.
 */
export const OPERATIONAL_EVENT_TYPES = ['hookshape.delivery.failed', 'hookshape.webhook.disabled', 'hookshape.webhook.invalid', 'hookshape.event.dead_lettered'] as const;

export const EVENT_TYPES = [...PLATFORM_EVENT_TYPES, ...OPERATIONAL_EVENT_TYPES] as const;

export type EventType = (typeof EVENT_TYPES)[number];
export type OperationalEventType = (typeof OPERATIONAL_EVENT_TYPES)[number];

/** Events hookshape itself emits about deliveries and webhooks (never the platform's). */
export function isOperationalEventType(value: string): value is OperationalEventType {
  return value.startsWith('hookshape.');
}

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && (EVENT_TYPES as readonly string[]).includes(value);
}

export interface EventVariable {
  /** Path in the template context: `data.call.id`; `[]` stands for each item of an array (`data.tags[]`). */
  path: string;
  type: 'string' | 'number' | 'boolean' | 'object' | 'array' | 'datetime' | 'null';
  description: string;
}

export interface EventDefinition {
  type: EventType;
  /** Spanish name from the platform's event list. */
  seedName: string;
  /** Spanish description from the platform's event list. */
  seedDescription: string;
  /** English description: when the event fires and what it carries. */
  description: string;
  /** Every leaf of `sample` (and every array, plus its `[]` item paths), documented. */
  variables: readonly EventVariable[];
  /** A realistic `data` payload. */
  sample: Readonly<Record<string, unknown>>;
}

/** The envelope around every event's `data`, as the template context exposes it. */
export const EVENT_ENVELOPE_VARIABLES: readonly EventVariable[] = [
  { path: 'event.id', type: 'string', description: 'Unique id of the event (`evt_…`); the same on every retry, use it to deduplicate.' },
  { path: 'event.type', type: 'string', description: 'The event type, e.g. `call.created`.' },
  { path: 'event.accountId', type: 'string', description: 'Id of the account the event belongs to.' },
  { path: 'event.occurredAt', type: 'datetime', description: 'When the event happened on the platform (ISO-8601, UTC).' },
  { path: 'webhook.id', type: 'string', description: 'Id of the webhook being delivered.' },
  { path: 'webhook.name', type: 'string', description: 'Name the account gave the webhook.' },
];

/** The fixed `occurredAt` of every sample event. */
export const SAMPLE_OCCURRED_AT = '2025-03-14T15:30:00.000Z';
export const SAMPLE_ACCOUNT_ID = 'acc_demo';

// ---------------------------------------------------------------------------------------------
// Shared sample values: the same people and things, in the same shapes, everywhere.

const JOSE = { id: 'usr_4Kp9Qm2x', name: 'José Muñoz', email: 'jose.munoz@example.com' };
const LUCIA = { id: 'usr_2Hd7Rt5v', name: 'Lucía Fernández', email: 'lucia.fernandez@example.com' };
const ANA = { id: 'usr_9Wc3Nf8k', name: 'Ana Beltrán', email: 'ana.beltran@example.com' };
const TOMAS = { id: 'usr_6Jb1Ls4e', name: 'Tomás Araújo', email: 'tomas.araujo@example.com' };
const RAUL = { id: 'usr_3Gx8Vy1n', name: 'Raúl Gómez', email: 'raul.gomez@example.com' };

const MARIA = { name: 'Maria da Conceição', email: 'maria.conceicao@example.com', phone: '+5511987654321' };
const LUIS = { name: 'Luis Peña', email: 'luis.pena@example.com', phone: '+56912345678' };

const SEGMENT_VENTAS = { id: 'seg_3Pv9Xa1c', name: 'Ventas' };
const SEGMENT_SOPORTE = { id: 'seg_8Qz2Mk6d', name: 'Soporte técnico' };

const CALL_ID = 'call_8GkT2pXq';
const CALL_REF = { id: CALL_ID, startedAt: '2025-03-14T15:02:11.000Z' };
const REJECTED_CALL_REF = { id: 'call_5Tn1Rb8w', startedAt: '2025-03-14T11:40:02.000Z' };

const RECORDING_URL = 'https://recordings.example.com/rec_2Nq6Tz4w.mp4';

const FORM_DEFINITION_FIELDS = [
  { name: 'nombre', label: 'Nombre completo', type: 'text', required: true },
  { name: 'plan', label: '¿Qué plan te interesa?', type: 'select', required: false },
];

const MEETING = {
  id: 'mtg_6Vw1Xy5z',
  title: 'Demostración Hogar Plus',
  startsAt: '2025-03-18T14:00:00.000Z',
  endsAt: '2025-03-18T14:30:00.000Z',
  timezone: 'America/Santiago',
  joinUrl: 'https://meet.example.com/j/mtg_6Vw1Xy5z',
};

// ---------------------------------------------------------------------------------------------
// Shared variable documentation, matching the shared sample shapes above.

type VariableType = EventVariable['type'];
const v = (path: string, type: VariableType, description: string): EventVariable => ({ path, type, description });

/** An agent/user reference: `{ id, name, email }`. */
const userVars = (path: string, who: string): EventVariable[] => [
  v(`${path}.id`, 'string', `User id (\`usr_…\`) of ${who}.`),
  v(`${path}.name`, 'string', `Full name of ${who}.`),
  v(`${path}.email`, 'string', `Email address of ${who}.`),
];

const customerVars = (path = 'data.customer'): EventVariable[] => [
  v(`${path}.name`, 'string', 'Customer name, as entered in the widget or form.'),
  v(`${path}.email`, 'string', 'Customer email address.'),
  v(`${path}.phone`, 'string', 'Customer phone number in E.164 format (`+5511987654321`).'),
];

const callRefVars = (path = 'data.call'): EventVariable[] => [
  v(`${path}.id`, 'string', 'Id of the call (`call_…`); the same id as in `call.created`.'),
  v(`${path}.startedAt`, 'datetime', 'When the call started (the customer joined the queue).'),
];

const segmentRefVars = (path: string, what: string): EventVariable[] => [
  v(`${path}.id`, 'string', `Id (\`seg_…\`) of ${what}.`),
  v(`${path}.name`, 'string', `Name of ${what}.`),
];

/** A segment's member agents, `[{ id, name, email }]`. */
const agentListVars = (path: string): EventVariable[] => [
  v(path, 'array', 'Agents assigned to the segment.'),
  ...userVars(`${path}[]`, 'each agent'),
];

/** A form definition's fields, `[{ name, label, type, required }]`. */
const formDefinitionFieldVars = (path = 'data.form.fields'): EventVariable[] => [
  v(path, 'array', 'Fields of the form, in display order.'),
  v(`${path}[].name`, 'string', 'Machine name of each field (the key its answers use).'),
  v(`${path}[].label`, 'string', 'Label of each field, as shown to the person filling the form.'),
  v(`${path}[].type`, 'string', 'Input type of each field: `text`, `textarea`, `select`, `email`, `phone`, `date`, `checkbox`.'),
  v(`${path}[].required`, 'boolean', 'Whether each field must be filled.'),
];

/** A filled form's answers, `[{ name, label, value }]`. */
const filledFieldVars = (path: string, what: string): EventVariable[] => [
  v(path, 'array', `Answers of ${what}, in display order; loop with \`{% for f in ${path} %}\`.`),
  v(`${path}[].name`, 'string', 'Machine name of each field.'),
  v(`${path}[].label`, 'string', 'Label of each field, as shown when it was filled.'),
  v(`${path}[].value`, 'string', 'Answer to each field, as text (empty string when left blank).'),
];

const meetingVars = (path = 'data.meeting'): EventVariable[] => [
  v(`${path}.id`, 'string', 'Id of the meeting (`mtg_…`).'),
  v(`${path}.title`, 'string', 'Title of the meeting.'),
  v(`${path}.startsAt`, 'datetime', 'When the meeting starts (UTC).'),
  v(`${path}.endsAt`, 'datetime', 'When the meeting ends (UTC).'),
  v(`${path}.timezone`, 'string', 'IANA time zone the meeting was booked in, for formatting local times (`America/Santiago`).'),
  v(`${path}.joinUrl`, 'string', 'Link the customer opens to join the video meeting.'),
];

// ---------------------------------------------------------------------------------------------

type Definition = Omit<EventDefinition, 'type'>;

const DEFINITIONS: Record<EventType, Definition> = {
  'queue.created': {
    seedName: 'Nueva fila',
    seedDescription: 'Una nueva fila ha sido creada',
    description:
      'A customer joined a waiting queue to be attended by video call. Fires once per customer waiting, before any agent answers.',
    variables: [
      v('data.queue.id', 'string', 'Id of this waiting-queue entry (`que_…`); `call.created` refers to it when the customer is answered.'),
      v('data.queue.name', 'string', 'Name of the queue the customer joined, as shown in the widget.'),
      ...segmentRefVars('data.queue.segment', 'the routing segment that serves the queue'),
      v('data.queue.enteredAt', 'datetime', 'When the customer joined the queue.'),
      v('data.queue.position', 'number', 'Position in the queue on joining (1 = next to be answered).'),
      ...customerVars(),
      v('data.metadata.source', 'string', 'Where the customer started the call (`web-widget`, `mobile-app`, `link`).'),
      v('data.metadata.campaign', 'string', 'Campaign tag passed to the widget by the customer-facing site.'),
    ],
    sample: {
      queue: {
        id: 'que_5Rt8WnK2',
        name: 'Ventas hogar',
        segment: SEGMENT_VENTAS,
        enteredAt: '2025-03-14T15:02:11.000Z',
        position: 2,
      },
      customer: MARIA,
      metadata: { source: 'web-widget', campaign: 'otono-2025' },
    },
  },

  'queue.abandoned': {
    seedName: 'Fila abandonada',
    seedDescription: 'El cliente ha abandonado la fila',
    description: 'A customer left the waiting queue before any agent answered (closed the window or hung up while waiting).',
    variables: [
      v('data.queue.id', 'string', 'Id of the abandoned waiting-queue entry (`que_…`), as in `queue.created`.'),
      v('data.queue.name', 'string', 'Name of the queue the customer was waiting in.'),
      ...segmentRefVars('data.queue.segment', 'the routing segment that serves the queue'),
      v('data.queue.enteredAt', 'datetime', 'When the customer joined the queue.'),
      v('data.queue.abandonedAt', 'datetime', 'When the customer left the queue.'),
      v('data.queue.waitSeconds', 'number', 'Seconds the customer waited before leaving.'),
      v('data.queue.position', 'number', 'Position in the queue when the customer left (1 = next to be answered).'),
      ...customerVars(),
    ],
    sample: {
      queue: {
        id: 'que_7Yc2Bd9h',
        name: 'Ventas hogar',
        segment: SEGMENT_VENTAS,
        enteredAt: '2025-03-14T15:00:30.000Z',
        abandonedAt: '2025-03-14T15:02:48.000Z',
        waitSeconds: 138,
        position: 1,
      },
      customer: LUIS,
    },
  },

  'call.created': {
    seedName: 'Llamada creada',
    seedDescription: 'Se ha creado una nueva llamada contestada',
    description:
      'An answered video call was recorded: who called, which agent answered, from which queue, when, for how long, with its tags, metadata and recording.',
    variables: [
      v('data.call.id', 'string', 'Id of the call (`call_…`).'),
      v('data.call.startedAt', 'datetime', 'When the call started (the customer joined the queue).'),
      v('data.call.answeredAt', 'datetime', 'When the agent answered.'),
      v('data.call.endedAt', 'datetime', 'When the call ended.'),
      v('data.call.durationSeconds', 'number', 'Talk time in seconds, from answer to end.'),
      v('data.call.channel', 'string', 'Channel of the call: `video` (or `audio` for audio-only calls).'),
      v('data.queue.id', 'string', 'Id of the waiting-queue entry the call was answered from (`que_…`), as in `queue.created`.'),
      v('data.queue.name', 'string', 'Name of the queue the customer joined.'),
      ...userVars('data.agent', 'the agent who answered'),
      ...customerVars(),
      v('data.tags', 'array', 'Tags the agent put on the call: `{{ data.tags | join: ", " }}` lists them, `{{ data.tags | json }}` gives a JSON array.'),
      v('data.tags[]', 'string', 'Each tag.'),
      v('data.metadata.source', 'string', 'Where the customer started the call (`web-widget`, `mobile-app`, `link`).'),
      v('data.metadata.campaign', 'string', 'Campaign tag passed to the widget by the customer-facing site.'),
      v('data.recording.id', 'string', 'Id of the recording (`rec_…`). `data.recording` is null when the call was not recorded.'),
      v('data.recording.url', 'string', 'Download URL of the recording (MP4).'),
      v('data.recording.durationSeconds', 'number', 'Length of the recording in seconds.'),
    ],
    sample: {
      call: {
        id: CALL_ID,
        startedAt: '2025-03-14T15:02:11.000Z',
        answeredAt: '2025-03-14T15:03:40.000Z',
        endedAt: '2025-03-14T15:17:05.000Z',
        durationSeconds: 805,
        channel: 'video',
      },
      queue: { id: 'que_5Rt8WnK2', name: 'Ventas hogar' },
      agent: JOSE,
      customer: MARIA,
      tags: ['venta', 'hogar-plus'],
      metadata: { source: 'web-widget', campaign: 'otono-2025' },
      recording: { id: 'rec_2Nq6Tz4w', url: RECORDING_URL, durationSeconds: 803 },
    },
  },

  'user.connected': {
    seedName: 'Usuario conectado',
    seedDescription: 'Un agente se ha conectado a su cuenta',
    description: 'An agent signed in to the platform and became available to take calls.',
    variables: [
      ...userVars('data.user', 'the agent'),
      v('data.user.role', 'string', 'Role of the user: `agent`, `supervisor` or `admin`.'),
      v('data.status', 'string', 'Status the agent connected with (`available`, `busy`, `away`).'),
      v('data.connectedAt', 'datetime', 'When the agent connected.'),
    ],
    sample: {
      user: { ...JOSE, role: 'agent' },
      status: 'available',
      connectedAt: '2025-03-14T14:55:00.000Z',
    },
  },

  'user.disconnected': {
    seedName: 'Usuario desconectado',
    seedDescription: 'Un agente se ha desconectado de su cuenta',
    description: 'An agent signed out of the platform (or the session expired) and stopped taking calls.',
    variables: [
      ...userVars('data.user', 'the agent'),
      v('data.user.role', 'string', 'Role of the user: `agent`, `supervisor` or `admin`.'),
      v('data.disconnectedAt', 'datetime', 'When the agent disconnected.'),
      v('data.sessionSeconds', 'number', 'Length of the session that ended, in seconds.'),
      v('data.reason', 'string', 'Why the session ended: `logout`, `timeout` or `forced` (by an administrator).'),
    ],
    sample: {
      user: { ...JOSE, role: 'agent' },
      disconnectedAt: '2025-03-14T15:29:30.000Z',
      sessionSeconds: 2070,
      reason: 'logout',
    },
  },

  'user.created': {
    seedName: 'Nuevo usuario',
    seedDescription: 'Se ha creado un nuevo agente en su cuenta',
    description: 'A new agent (user) was added to the account.',
    variables: [
      ...userVars('data.user', 'the new agent'),
      v('data.user.role', 'string', 'Role of the user: `agent`, `supervisor` or `admin`.'),
      v('data.user.segments', 'array', 'Segments the agent takes calls for.'),
      ...segmentRefVars('data.user.segments[]', 'each segment'),
      v('data.user.createdAt', 'datetime', 'When the user was created.'),
      ...userVars('data.actor', 'the administrator who created the user'),
    ],
    sample: {
      user: {
        ...TOMAS,
        role: 'agent',
        segments: [SEGMENT_VENTAS],
        createdAt: '2025-03-14T12:05:00.000Z',
      },
      actor: LUCIA,
    },
  },

  'user.deleted': {
    seedName: 'Usuario eliminado',
    seedDescription: 'Se ha eliminado un agente de su cuenta',
    description: 'An agent (user) was removed from the account.',
    variables: [
      ...userVars('data.user', 'the removed agent'),
      v('data.user.role', 'string', 'Role the user had: `agent`, `supervisor` or `admin`.'),
      v('data.deletedAt', 'datetime', 'When the user was removed.'),
      ...userVars('data.actor', 'the administrator who removed the user'),
    ],
    sample: {
      user: { ...RAUL, role: 'agent' },
      deletedAt: '2025-03-14T12:50:00.000Z',
      actor: LUCIA,
    },
  },

  'user.updated': {
    seedName: 'Usuario editado',
    seedDescription: 'Se ha editado información de un agente de su cuenta',
    description: "An agent's profile was edited (name, email, role or segments); carries the user as it is now.",
    variables: [
      ...userVars('data.user', 'the edited agent'),
      v('data.user.role', 'string', 'Role of the user: `agent`, `supervisor` or `admin`.'),
      v('data.user.segments', 'array', 'Segments the agent takes calls for.'),
      ...segmentRefVars('data.user.segments[]', 'each segment'),
      v('data.user.updatedAt', 'datetime', 'When the user was edited.'),
      v('data.changedFields', 'array', 'Names of the fields that changed.'),
      v('data.changedFields[]', 'string', 'Each changed field: `name`, `email`, `role` or `segments`.'),
      ...userVars('data.actor', 'the administrator who edited the user'),
    ],
    sample: {
      user: {
        ...TOMAS,
        role: 'agent',
        segments: [SEGMENT_VENTAS, SEGMENT_SOPORTE],
        updatedAt: '2025-03-14T12:40:00.000Z',
      },
      changedFields: ['segments'],
      actor: LUCIA,
    },
  },

  'form.updated': {
    seedName: 'Formulario editado',
    seedDescription: 'Se ha editado información de un formulario de su cuenta',
    description: 'A form definition (customer form or agent form) was edited; carries the form as it is now.',
    variables: [
      v('data.form.id', 'string', 'Id of the form (`frm_…`).'),
      v('data.form.name', 'string', 'Name of the form.'),
      v('data.form.kind', 'string', 'Who fills the form: `customer` (before or outside a call) or `agent` (after a call).'),
      ...formDefinitionFieldVars(),
      v('data.form.updatedAt', 'datetime', 'When the form was edited.'),
      v('data.changedFields', 'array', 'Names of the form properties that changed.'),
      v('data.changedFields[]', 'string', 'Each changed property: `name` or `fields`.'),
      ...userVars('data.actor', 'the administrator who edited the form'),
    ],
    sample: {
      form: {
        id: 'frm_1Ab4Cd7e',
        name: 'Solicitud de cotización',
        kind: 'customer',
        fields: FORM_DEFINITION_FIELDS,
        updatedAt: '2025-03-14T13:10:00.000Z',
      },
      changedFields: ['fields'],
      actor: LUCIA,
    },
  },

  'form.deleted': {
    seedName: 'Formulario eliminado',
    seedDescription: 'Se ha eliminado un formulario de su cuenta',
    description: 'A form definition was deleted from the account.',
    variables: [
      v('data.form.id', 'string', 'Id of the deleted form (`frm_…`).'),
      v('data.form.name', 'string', 'Name the form had.'),
      v('data.form.kind', 'string', 'Who filled the form: `customer` or `agent`.'),
      v('data.deletedAt', 'datetime', 'When the form was deleted.'),
      ...userVars('data.actor', 'the administrator who deleted the form'),
    ],
    sample: {
      form: { id: 'frm_9Kx2Lw5q', name: 'Contacto fuera de horario', kind: 'customer' },
      deletedAt: '2025-03-14T13:20:00.000Z',
      actor: LUCIA,
    },
  },

  'form.created': {
    seedName: 'Nuevo formulario',
    seedDescription: 'Se ha creado un formulario en su cuenta',
    description: 'A new form definition (customer form or agent form) was created in the account.',
    variables: [
      v('data.form.id', 'string', 'Id of the new form (`frm_…`).'),
      v('data.form.name', 'string', 'Name of the form.'),
      v('data.form.kind', 'string', 'Who fills the form: `customer` (before or outside a call) or `agent` (after a call).'),
      ...formDefinitionFieldVars(),
      v('data.form.createdAt', 'datetime', 'When the form was created.'),
      ...userVars('data.actor', 'the administrator who created the form'),
    ],
    sample: {
      form: {
        id: 'frm_1Ab4Cd7e',
        name: 'Solicitud de cotización',
        kind: 'customer',
        fields: [FORM_DEFINITION_FIELDS[0]],
        createdAt: '2025-03-14T13:00:00.000Z',
      },
      actor: LUCIA,
    },
  },

  'form.received': {
    seedName: 'Formulario recibido',
    seedDescription: 'Se ha recibido un nuevo formulario de un cliente',
    description: 'A customer submitted a customer-facing form (e.g. the form before joining a queue, or a contact form).',
    variables: [
      v('data.form.id', 'string', 'Id of the form that was filled (`frm_…`).'),
      v('data.form.name', 'string', 'Name of the form.'),
      ...filledFieldVars('data.form.fields', 'the customer'),
      ...customerVars(),
      v('data.submittedAt', 'datetime', 'When the customer submitted the form.'),
    ],
    sample: {
      form: {
        id: 'frm_1Ab4Cd7e',
        name: 'Solicitud de cotización',
        fields: [
          { name: 'nombre', label: 'Nombre completo', value: 'Maria da Conceição' },
          { name: 'plan', label: '¿Qué plan te interesa?', value: 'Hogar Plus' },
        ],
      },
      customer: MARIA,
      submittedAt: '2025-03-14T15:01:50.000Z',
    },
  },

  'segment.updated': {
    seedName: 'Segmento editado',
    seedDescription: 'Se ha editado información de un segmento de su cuenta',
    description: 'A routing segment (a group of agents and its queue settings) was edited; carries the segment as it is now.',
    variables: [
      ...segmentRefVars('data.segment', 'the segment'),
      v('data.segment.description', 'string', 'Description of the segment.'),
      ...agentListVars('data.segment.agents'),
      v('data.segment.maxWaitSeconds', 'number', 'Longest a customer may wait in the segment\'s queues before being offered a callback.'),
      v('data.segment.updatedAt', 'datetime', 'When the segment was edited.'),
      v('data.changedFields', 'array', 'Names of the segment properties that changed.'),
      v('data.changedFields[]', 'string', 'Each changed property: `name`, `description`, `agents` or `maxWaitSeconds`.'),
      ...userVars('data.actor', 'the administrator who edited the segment'),
    ],
    sample: {
      segment: {
        ...SEGMENT_VENTAS,
        description: 'Venta de planes de hogar y auto',
        agents: [JOSE, TOMAS],
        maxWaitSeconds: 300,
        updatedAt: '2025-03-14T13:35:00.000Z',
      },
      changedFields: ['agents'],
      actor: LUCIA,
    },
  },

  'segment.deleted': {
    seedName: 'Segmento eliminado',
    seedDescription: 'Se ha eliminado un segmento de su cuenta',
    description: 'A routing segment was deleted from the account.',
    variables: [
      ...segmentRefVars('data.segment', 'the deleted segment'),
      v('data.deletedAt', 'datetime', 'When the segment was deleted.'),
      ...userVars('data.actor', 'the administrator who deleted the segment'),
    ],
    sample: {
      segment: { id: 'seg_5Lr0Jt3u', name: 'Campaña verano' },
      deletedAt: '2025-03-14T13:40:00.000Z',
      actor: LUCIA,
    },
  },

  'segment.created': {
    seedName: 'Nuevo segmento',
    seedDescription: 'Se ha creado un nuevo segmento en su cuenta',
    description: 'A new routing segment (a group of agents and its queue settings) was created in the account.',
    variables: [
      ...segmentRefVars('data.segment', 'the new segment'),
      v('data.segment.description', 'string', 'Description of the segment.'),
      ...agentListVars('data.segment.agents'),
      v('data.segment.maxWaitSeconds', 'number', 'Longest a customer may wait in the segment\'s queues before being offered a callback.'),
      v('data.segment.createdAt', 'datetime', 'When the segment was created.'),
      ...userVars('data.actor', 'the administrator who created the segment'),
    ],
    sample: {
      segment: {
        ...SEGMENT_SOPORTE,
        description: 'Ayuda con la app y facturación',
        agents: [JOSE],
        maxWaitSeconds: 600,
        createdAt: '2025-03-14T13:30:00.000Z',
      },
      actor: LUCIA,
    },
  },

  'comment.created': {
    seedName: 'Nuevo comentario',
    seedDescription: 'Se ha creado un nuevo comentario en una llamada',
    description: 'Someone in the account (agent, supervisor or reviewer) added a comment to a call.',
    variables: [
      v('data.comment.id', 'string', 'Id of the comment (`cmt_…`).'),
      v('data.comment.text', 'string', 'Text of the comment.'),
      v('data.comment.createdAt', 'datetime', 'When the comment was written.'),
      ...userVars('data.author', 'the user who wrote the comment'),
      ...callRefVars(),
    ],
    sample: {
      comment: {
        id: 'cmt_4Rs8Tu2v',
        text: 'Buen cierre. Ofrecer el descuento anual en la próxima llamada.',
        createdAt: '2025-03-14T15:21:15.000Z',
      },
      author: LUCIA,
      call: CALL_REF,
    },
  },

  'agent_form.submitted': {
    seedName: 'Formulario agente',
    seedDescription: 'Formulario rellenado por el agente',
    description: 'An agent filled in an agent form about a call (typically the wrap-up form after the call ends).',
    variables: [
      v('data.form.id', 'string', 'Id of the agent form (`frm_…`).'),
      v('data.form.name', 'string', 'Name of the agent form.'),
      ...filledFieldVars('data.form.fields', 'the agent'),
      ...userVars('data.agent', 'the agent who filled the form'),
      ...callRefVars(),
      v('data.submittedAt', 'datetime', 'When the agent submitted the form.'),
    ],
    sample: {
      form: {
        id: 'frm_5Ef8Gh2j',
        name: 'Cierre de llamada',
        fields: [
          { name: 'resultado', label: 'Resultado', value: 'Venta cerrada' },
          { name: 'observaciones', label: 'Observaciones', value: 'Pide factura a nombre de su empresa.' },
        ],
      },
      agent: JOSE,
      call: CALL_REF,
      submittedAt: '2025-03-14T15:19:02.000Z',
    },
  },

  'survey.received': {
    seedName: 'Encuesta recibida',
    seedDescription: 'Encuesta enviada por el cliente a finalizar una llamada',
    description: 'A customer answered the satisfaction survey shown at the end of a call.',
    variables: [
      v('data.survey.id', 'string', 'Id of the survey (`svy_…`).'),
      v('data.survey.name', 'string', 'Name of the survey.'),
      ...filledFieldVars('data.survey.fields', 'the customer'),
      ...callRefVars(),
      ...userVars('data.agent', 'the agent who attended the call'),
      ...customerVars(),
      v('data.submittedAt', 'datetime', 'When the customer sent the survey.'),
    ],
    sample: {
      survey: {
        id: 'svy_3Mn7Pq1r',
        name: 'Encuesta de satisfacción',
        fields: [
          { name: 'nps', label: '¿Qué tan probable es que nos recomiendes? (0-10)', value: '9' },
          { name: 'comentario', label: 'Comentarios', value: 'Muy amable, resolvió todo.' },
        ],
      },
      call: CALL_REF,
      agent: JOSE,
      customer: MARIA,
      submittedAt: '2025-03-14T15:17:58.000Z',
    },
  },

  'recording.created': {
    seedName: 'Nueva grabación',
    seedDescription: 'Nueva grabación recibida',
    description: 'The recording of a call was processed and is ready to download (and, if reviews are on, to review).',
    variables: [
      v('data.recording.id', 'string', 'Id of the recording (`rec_…`).'),
      v('data.recording.url', 'string', 'Download URL of the recording (MP4).'),
      v('data.recording.durationSeconds', 'number', 'Length of the recording in seconds.'),
      v('data.recording.sizeBytes', 'number', 'Size of the file in bytes.'),
      v('data.recording.status', 'string', 'Review status: `pending_review` (or `approved` when reviews are off).'),
      v('data.recording.createdAt', 'datetime', 'When the recording became available.'),
      ...callRefVars(),
      ...userVars('data.agent', 'the agent who attended the call'),
    ],
    sample: {
      recording: {
        id: 'rec_2Nq6Tz4w',
        url: RECORDING_URL,
        durationSeconds: 803,
        sizeBytes: 48_213_504,
        status: 'pending_review',
        createdAt: '2025-03-14T15:17:40.000Z',
      },
      call: CALL_REF,
      agent: JOSE,
    },
  },

  'recording.approved': {
    seedName: 'Grabación aprobada',
    seedDescription: 'Grabación aprobada por un revisor o administrador.',
    description: 'A reviewer or administrator approved a call recording.',
    variables: [
      v('data.recording.id', 'string', 'Id of the recording (`rec_…`).'),
      v('data.recording.url', 'string', 'Download URL of the recording (MP4).'),
      v('data.recording.durationSeconds', 'number', 'Length of the recording in seconds.'),
      v('data.recording.status', 'string', 'Review status, `approved`.'),
      v('data.recording.reviewedAt', 'datetime', 'When the recording was approved.'),
      ...callRefVars(),
      ...userVars('data.reviewer', 'the reviewer who approved the recording'),
    ],
    sample: {
      recording: {
        id: 'rec_2Nq6Tz4w',
        url: RECORDING_URL,
        durationSeconds: 803,
        status: 'approved',
        reviewedAt: '2025-03-14T15:26:00.000Z',
      },
      call: CALL_REF,
      reviewer: ANA,
    },
  },

  'recording.rejected': {
    seedName: 'Grabación rechazada',
    seedDescription: 'Grabación rechazada por un revisor o administrador.',
    description: 'A reviewer or administrator rejected a call recording, with a reason.',
    variables: [
      v('data.recording.id', 'string', 'Id of the recording (`rec_…`).'),
      v('data.recording.url', 'string', 'Download URL of the recording (MP4).'),
      v('data.recording.durationSeconds', 'number', 'Length of the recording in seconds.'),
      v('data.recording.status', 'string', 'Review status, `rejected`.'),
      v('data.recording.reviewedAt', 'datetime', 'When the recording was rejected.'),
      v('data.reason', 'string', 'Why the reviewer rejected the recording.'),
      ...callRefVars(),
      ...userVars('data.reviewer', 'the reviewer who rejected the recording'),
    ],
    sample: {
      recording: {
        id: 'rec_9Jh4Kl2m',
        url: 'https://recordings.example.com/rec_9Jh4Kl2m.mp4',
        durationSeconds: 42,
        status: 'rejected',
        reviewedAt: '2025-03-14T15:27:10.000Z',
      },
      reason: 'Audio del cliente inaudible.',
      call: REJECTED_CALL_REF,
      reviewer: ANA,
    },
  },

  'recording.deleted': {
    seedName: 'Grabación eliminada',
    seedDescription: 'Grabación eliminada por un administrador.',
    description: 'An administrator deleted a call recording; its URL no longer works, so none is sent.',
    variables: [
      v('data.recording.id', 'string', 'Id of the deleted recording (`rec_…`).'),
      v('data.recording.durationSeconds', 'number', 'Length the recording had, in seconds.'),
      v('data.deletedAt', 'datetime', 'When the recording was deleted.'),
      ...callRefVars(),
      ...userVars('data.actor', 'the administrator who deleted the recording'),
    ],
    sample: {
      recording: { id: 'rec_9Jh4Kl2m', durationSeconds: 42 },
      deletedAt: '2025-03-14T15:29:00.000Z',
      call: REJECTED_CALL_REF,
      actor: LUCIA,
    },
  },

  'meeting.created': {
    seedName: 'Nueva reunión',
    seedDescription: 'Nueva reunión agendada.',
    description: 'A video meeting with a customer was scheduled.',
    variables: [
      ...meetingVars(),
      ...userVars('data.agent', 'the agent hosting the meeting'),
      ...customerVars(),
      v('data.createdAt', 'datetime', 'When the meeting was booked.'),
    ],
    sample: {
      meeting: MEETING,
      agent: JOSE,
      customer: MARIA,
      createdAt: '2025-03-14T15:16:30.000Z',
    },
  },

  'meeting.cancelled': {
    seedName: 'Reunión cancelada',
    seedDescription: 'Una reunión ha sido cancelada.',
    description: 'A scheduled video meeting was cancelled, by the customer or by the account.',
    variables: [
      ...meetingVars(),
      ...userVars('data.agent', 'the agent who was hosting the meeting'),
      ...customerVars(),
      v('data.cancelledAt', 'datetime', 'When the meeting was cancelled.'),
      v('data.cancelledBy', 'string', 'Who cancelled: `customer` or `agent`.'),
      v('data.reason', 'string', 'Reason given for the cancellation (empty string when none).'),
    ],
    sample: {
      meeting: MEETING,
      agent: JOSE,
      customer: MARIA,
      cancelledAt: '2025-03-14T15:29:50.000Z',
      cancelledBy: 'customer',
      reason: 'Necesito cambiar el horario.',
    },
  },

  'meeting.reminder': {
    seedName: 'Recordatorio reunión',
    seedDescription: 'Se debe enviar un recordatorio de reunión',
    description: 'A scheduled meeting is coming up and a reminder should be sent now (e.g. by SMS or email from the webhook).',
    variables: [
      ...meetingVars(),
      ...userVars('data.agent', 'the agent hosting the meeting'),
      ...customerVars(),
      v('data.minutesUntilStart', 'number', 'Minutes from now until the meeting starts.'),
    ],
    sample: {
      meeting: MEETING,
      agent: JOSE,
      customer: MARIA,
      minutesUntilStart: 60,
    },
  },

  'qms_ticket.notified': {
    seedName: 'Notificación ticket QMS',
    seedDescription: 'Notificación de ticket asignado a QMS',
    description: 'A quality-management (QMS) ticket to evaluate a call was assigned to a reviewer.',
    variables: [
      v('data.ticket.id', 'string', 'Id of the QMS ticket (`qms_…`).'),
      v('data.ticket.status', 'string', 'Status of the ticket: `assigned`, `in_review` or `closed`.'),
      v('data.ticket.priority', 'string', 'Priority of the ticket: `low`, `normal` or `high`.'),
      v('data.ticket.createdAt', 'datetime', 'When the ticket was created.'),
      v('data.ticket.dueAt', 'datetime', 'When the evaluation is due.'),
      ...userVars('data.reviewer', 'the reviewer the ticket is assigned to'),
      ...userVars('data.agent', 'the agent being evaluated'),
      ...callRefVars(),
    ],
    sample: {
      ticket: {
        id: 'qms_8Ab3Cd6e',
        status: 'assigned',
        priority: 'normal',
        createdAt: '2025-03-14T15:28:00.000Z',
        dueAt: '2025-03-17T21:00:00.000Z',
      },
      reviewer: ANA,
      agent: JOSE,
      call: CALL_REF,
    },
  },

  // --- hookshape's own operational events (OPERATIONAL_EVENT_TYPES). The sample story: the account's
  // webhook `crm-calls` keeps answering 500 to José's call of 15:17.

  'hookshape.delivery.failed': {
    seedName: 'Entrega fallida',
    seedDescription: 'Una entrega de webhook ha fallado definitivamente',
    description:
      'A delivery of one of the account\'s webhooks failed for good: its retries are exhausted or the failure is lasting (refused destination, rejected credentials, internal error). Never emitted for the delivery of a `hookshape.*` event, so a failing notification webhook does not notify itself.',
    variables: [
      v('data.delivery.id', 'string', 'Id of the delivery: `<webhook id>/<event id>`.'),
      v('data.delivery.status', 'string', 'Status of the delivery: `failed`.'),
      v('data.delivery.errorCode', 'string', 'Why it failed, as a stable code: `retries_exhausted`, `http_error`, `destination_blocked`, `auth_failed`, `webhook_removed`, `internal_error`, `stalled`.'),
      v('data.delivery.attempts', 'number', 'Attempts made (primary and backup URL together).'),
      v('data.delivery.createdAt', 'datetime', 'When the delivery was created (the event reached hookshape).'),
      v('data.delivery.endedAt', 'datetime', 'When it ended failed.'),
      v('data.webhook.id', 'string', 'Id of the webhook whose delivery failed.'),
      v('data.webhook.name', 'string', 'Name of that webhook.'),
      v('data.event.id', 'string', 'Id of the event that was not delivered (`evt_…`).'),
      v('data.event.type', 'string', 'Type of that event, e.g. `call.created`.'),
      v('data.event.occurredAt', 'datetime', 'When that event happened.'),
      v('data.reason', 'string', 'The last error, as the delivery log records it (no secrets; at most 500 characters).'),
      v('data.portalPath', 'string', 'Where the portal shows the delivery: `/portal#/deliveries/<webhook id>/<event id>`, relative to the management API.'),
    ],
    sample: {
      delivery: { id: 'crm-calls/evt_7Hn2Kq9z', status: 'failed', errorCode: 'retries_exhausted', attempts: 4, createdAt: '2025-03-14T15:17:06.000Z', endedAt: '2025-03-14T15:29:12.000Z' },
      webhook: { id: 'crm-calls', name: 'CRM: answered calls' },
      event: { id: 'evt_7Hn2Kq9z', type: 'call.created', occurredAt: '2025-03-14T15:17:05.000Z' },
      reason: 'HTTP 500',
      portalPath: '/portal#/deliveries/crm-calls/evt_7Hn2Kq9z',
    },
  },

  'hookshape.webhook.disabled': {
    seedName: 'Webhook desactivado',
    seedDescription: 'Un webhook ha sido desactivado automáticamente',
    description:
      'A webhook of the account was disabled automatically after too many consecutive failed deliveries (AUTO_DISABLE_AFTER_FAILURES); it receives nothing until it is enabled again. The disabled webhook itself is never notified.',
    variables: [
      v('data.webhook.id', 'string', 'Id of the disabled webhook.'),
      v('data.webhook.name', 'string', 'Name of the disabled webhook.'),
      v('data.disabled.at', 'datetime', 'When it was disabled.'),
      v('data.disabled.consecutiveFailures', 'number', 'Consecutive failed deliveries that disabled it.'),
      v('data.delivery.id', 'string', 'The last failed delivery: `<webhook id>/<event id>`.'),
      v('data.delivery.attempts', 'number', 'Attempts made by that last delivery.'),
      v('data.reason', 'string', 'The reason written into the webhook document (`disabled.reason`), with the last error (at most 500 characters).'),
      v('data.portalPath', 'string', 'Where the portal shows the webhook: `/portal#/webhooks/<webhook id>`.'),
    ],
    sample: {
      webhook: { id: 'crm-calls', name: 'CRM: answered calls' },
      disabled: { at: '2025-03-14T15:29:12.000Z', consecutiveFailures: 15 },
      delivery: { id: 'crm-calls/evt_7Hn2Kq9z', attempts: 4 },
      reason: 'disabled automatically after 15 consecutive failed deliveries; the last (event evt_7Hn2Kq9z): HTTP 500',
      portalPath: '/portal#/webhooks/crm-calls',
    },
  },

  'hookshape.webhook.invalid': {
    seedName: 'Webhook inválido',
    seedDescription: 'La validación de un webhook ha fallado',
    description:
      'A webhook document of the account became invalid: its validation (run on every change of its configuration) found errors, and the dispatcher skips it until it is fixed. Emitted once per invalid configuration.',
    variables: [
      v('data.webhook.id', 'string', 'Id of the invalid webhook.'),
      v('data.webhook.name', 'string', 'Name of the invalid webhook (its id when the document has no usable name).'),
      v('data.validation.checkedAt', 'datetime', 'When the validation ran.'),
      v('data.validation.errorCount', 'number', 'Errors found.'),
      v('data.validation.errors', 'array', 'The first errors (at most 10).'),
      v('data.validation.errors[].field', 'string', 'The field of the document each error is about, e.g. `body`.'),
      v('data.validation.errors[].message', 'string', 'What is wrong with it (at most 300 characters).'),
      v('data.reason', 'string', 'The errors in one line (at most 500 characters).'),
      v('data.portalPath', 'string', 'Where the portal shows the webhook: `/portal#/webhooks/<webhook id>`.'),
    ],
    sample: {
      webhook: { id: 'crm-calls', name: 'CRM: answered calls' },
      validation: {
        checkedAt: '2025-03-14T15:30:00.000Z',
        errorCount: 1,
        errors: [{ field: 'body', message: "unknown filter 'upcase2', line:1, col:12" }],
      },
      reason: "body: unknown filter 'upcase2', line:1, col:12",
      portalPath: '/portal#/webhooks/crm-calls',
    },
  },

  'hookshape.event.dead_lettered': {
    seedName: 'Evento descartado',
    seedDescription: 'Un evento no pudo ser distribuido y pasó al tema de mensajes fallidos',
    description:
      'An event of the account could not be dispatched after every redelivery (the dispatcher kept meeting a passing fault, or could not read the message) and Pub/Sub moved it to the dead-letter topic: none of its deliveries may exist. Re-publish it once the cause is fixed. Emitted once per event (a second dead letter of the same event is the same announcement); never for a `hookshape.*` event.',
    variables: [
      v('data.event.id', 'string', 'Id of the dead-lettered event (`evt_…`); empty when the message could not be read and names none.'),
      v('data.event.type', 'string', 'Type of the dead-lettered event (for an unreadable message: its `type` attribute, or empty).'),
      v('data.event.occurredAt', 'datetime', 'When the event happened (for an unreadable message without it: when it was published).'),
      v('data.deadLetter.messageId', 'string', 'Pub/Sub message id of the dead letter.'),
      v('data.deadLetter.deliveryAttempts', 'number', 'Deliveries to the dispatcher before Pub/Sub gave up (0 when Pub/Sub did not say).'),
      v('data.deadLetter.readable', 'boolean', 'Whether the message was a readable event message; false when that is probably why it died.'),
      v('data.deadLetter.excerpt', 'string', 'For an unreadable message, the start of its data (at most 200 characters, values of credential-like fields redacted); empty when it was readable.'),
      v('data.reason', 'string', 'Why: the dispatcher failed the event on every delivery (and, for an unreadable message, why it could not be read).'),
      v('data.portalPath', 'string', 'Where the portal shows the account\'s deliveries of the event: `/portal#/events/<event id>` (`/portal#/deliveries` when the id is not known).'),
    ],
    sample: {
      event: { id: 'evt_7Hn2Kq9z', type: 'call.created', occurredAt: '2025-03-14T15:17:05.000Z' },
      deadLetter: { messageId: '11873340201', deliveryAttempts: 5, readable: true, excerpt: '' },
      reason: 'the dispatcher could not dispatch the event in 5 deliveries; it is kept on the dead-letter topic',
      portalPath: '/portal#/events/evt_7Hn2Kq9z',
    },
  },
};

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

export const EVENT_CATALOGUE: Readonly<Record<EventType, EventDefinition>> = deepFreeze(
  Object.fromEntries(EVENT_TYPES.map((type) => [type, { type, ...DEFINITIONS[type] }])) as Record<EventType, EventDefinition>,
);

export interface SampleEventMessage {
  id: string;
  type: EventType;
  accountId: string;
  occurredAt: string;
  data: Record<string, unknown>;
}

/**
 * A complete sample event message for `type`: deterministic id (`evt_sample_call_created`), the fixed
 * `SAMPLE_OCCURRED_AT`, and a fresh, mutable copy of the catalogue's sample `data`.
 */
export function sampleEvent(type: EventType, accountId: string = SAMPLE_ACCOUNT_ID): SampleEventMessage {
  return {
    id: `evt_sample_${type.replace(/[^a-z0-9]+/g, '_')}`,
    type,
    accountId,
    occurredAt: SAMPLE_OCCURRED_AT,
    data: structuredClone(EVENT_CATALOGUE[type].sample) as Record<string, unknown>,
  };
}
