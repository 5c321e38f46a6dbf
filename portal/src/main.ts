/**
 * The customer portal: Webhooks, Editor, Scaffold, Deliveries, Secrets, on the management API with the
 * session's customer token. Hash routes (#/webhooks, #/editor/ID…). Receivers' answers are shown
 * through textContent only.
 */
import './style.css';
import { ApiError, createClient, type Api, type FieldError } from './api.ts';
import { busy, field, h, localTime, textBlock } from './dom.ts';
import { duplicateOf, editorFieldsOf, editorPatch, linesToMap, mapToLines, RULES, rulesOfForm, sameValue, slotFor, type EditorFields, type FormProblem } from './webhook-fields.ts';
import { endSession, keepFresh, sessionEnded, startSession, type Session } from './session.ts';

interface Config {
  branding: { name: string; primaryColor?: string; contrastColor?: string; logo?: string };
  embedOrigins: string[];
}
interface EventType {
  type: string;
  description: string;
  variables: Array<{ path: string; type: string; description: string }>;
  sample: Record<string, unknown>;
}

const app = document.getElementById('app')!;
let api: Api;
let session: Session;
let eventTypes: EventType[] = [];
let envelope: EventType['variables'] = [];

function expired(): void {
  endSession();
  app.replaceChildren(
    h('main', { class: 'expired', id: 'main' }, h('h1', {}, 'Session expired'), h('p', {}, 'This link is no longer valid. Open the webhooks page again from your account to get a new one.')),
  );
}

function showError(slot: HTMLElement, error: unknown): void {
  slot.textContent = error instanceof ApiError ? `${error.message}${error.errors.length ? '' : ` (${error.code})`}` : String(error);
}

/**
 * Whether a slot can show what is put in it: not under a hidden element, but for a collapsed section
 * (class collapsible), which its owner opens when a finding lands in it.
 */
function usable(slot: HTMLElement): boolean {
  const hidden = slot.closest('[hidden]');
  return !hidden || hidden.classList.contains('collapsible');
}

/**
 * API field errors next to their fields: the slot (data-field) whose name is the longest prefix of the
 * error's path (`retry.attempts`, else `retry`; `filter.data.x.$gtt` → `filter`), the rest in the form's general slot.
 */
function showFieldErrors(form: HTMLElement, general: HTMLElement, error: unknown): void {
  for (const slot of form.querySelectorAll<HTMLElement>('.field-error')) slot.textContent = '';
  general.textContent = '';
  if (!(error instanceof ApiError)) return showError(general, error);
  const slots = new Map([...form.querySelectorAll<HTMLElement>('.field-error[data-field]')].filter(usable).map((slot) => [slot.dataset.field!, slot]));
  const rest: FieldError[] = [];
  for (const item of error.errors) {
    const key = slotFor(item.field, slots.keys());
    const slot = key === undefined ? undefined : slots.get(key);
    const where = item.line ? ` (line ${item.line}, column ${item.column ?? 1})` : '';
    // Under a control of a whole map (filter, retry...), the path inside it says where: filter.data.x.$gtt.
    const path = item.field !== key && !item.message.includes(item.field) ? `${item.field}: ` : '';
    if (slot) slot.textContent = `${slot.textContent ? `${slot.textContent} ` : ''}${path}${item.message}${where}`;
    else rest.push(item);
  }
  general.textContent = error.errors.length === 0 ? error.message : rest.map((item) => `${item.field}: ${item.message}`).join('; ');
}

function variableSample(type: EventType, path: string): unknown {
  let value: unknown = path.startsWith('data.') ? type.sample : { event: { id: 'evt_sample', type: type.type, occurredAt: '2025-03-14T15:30:00.000Z' } };
  for (const part of (path.startsWith('data.') ? path.slice(5) : path).split('.')) value = value && typeof value === 'object' ? (value as Record<string, unknown>)[part.replace('[]', '')] : undefined;
  return value;
}

// --- Webhooks --------------------------------------------------------------------------------------

async function webhooksPage(main: HTMLElement): Promise<void> {
  main.append(h('h1', {}, 'Webhooks'));
  const status = h('p', { role: 'status' });
  main.append(h('p', {}, h('a', { href: '#/editor/new', class: 'button' }, 'Create webhook'), ' ', h('a', { href: '#/scaffold', class: 'button secondary' }, 'Create from an example')), status);
  const [{ data: list }, { data: deliveries }] = await Promise.all([api<{ data: any[] }>('GET', '/webhooks?limit=100'), api<{ data: any[] }>('GET', '/deliveries?limit=50').catch(() => ({ data: { data: [] } }))]);
  if (list.data.length === 0) {
    main.append(h('section', { class: 'empty' }, h('h2', {}, 'No webhooks yet'), h('p', {}, 'A webhook sends an HTTP request to your system each time an event happens. Create one, or paste an example request from the receiving system and let the portal fill it in.')));
    return;
  }
  const last = new Map<string, any>();
  for (const delivery of deliveries.data) if (!last.has(delivery.webhookId)) last.set(delivery.webhookId, delivery);
  const rows = list.data.map((webhook) => {
    const delivery = last.get(webhook.id);
    const act = (label: string, run: () => Promise<unknown>, confirmText?: string) => {
      const button: HTMLButtonElement = h('button', { type: 'button', onclick: () => void busy([button], async () => {
        if (confirmText && !window.confirm(confirmText)) return;
        try {
          await run();
          render();
        } catch (error) {
          showError(status, error);
        }
      }) }, label);
      return button;
    };
    const enabled = webhook.enabled !== false;
    return h(
      'tr',
      {},
      h('td', {}, h('a', { href: `#/editor/${encodeURIComponent(webhook.id)}` }, webhook.name)),
      h('td', {}, (webhook.events ?? []).join(', ')),
      h('td', { class: 'url' }, webhook.url),
      h('td', {}, enabled ? 'Enabled' : `Disabled${webhook.disabled?.reason ? `: ${webhook.disabled.reason}` : ''}`),
      h('td', {}, delivery ? `${delivery.status} · ${localTime(delivery.createdAt)}` : 'No deliveries yet'),
      h(
        'td',
        { class: 'actions' },
        act(enabled ? `Disable ${webhook.name}` : `Enable ${webhook.name}`, () => api('POST', `/webhooks/${encodeURIComponent(webhook.id)}/${enabled ? 'disable' : 'enable'}`)),
        act(`Duplicate ${webhook.name}`, () => api('POST', '/webhooks', { body: duplicateOf(webhook) })),
        act(`Delete ${webhook.name}`, () => api('DELETE', `/webhooks/${encodeURIComponent(webhook.id)}`), `Delete the webhook "${webhook.name}"? Its deliveries stop now.`),
      ),
    );
  });
  main.append(h('div', { class: 'table-wrap' }, h('table', {}, h('caption', {}, 'Your webhooks'), h('thead', {}, h('tr', {}, ...['Name', 'Events', 'URL', 'State', 'Last delivery', 'Actions'].map((name) => h('th', { scope: 'col' }, name)))), h('tbody', {}, ...rows))));
}

// --- Editor ----------------------------------------------------------------------------------------

async function editorPage(main: HTMLElement, id: string): Promise<void> {
  const isNew = id === 'new';
  let etag: string | null = null;
  let webhook: any = { name: '', events: [eventTypes[0]?.type ?? 'call.created'], method: 'POST', url: '', format: 'json', headers: {}, body: '' };
  if (!isNew) {
    const answer = await api('GET', `/webhooks/${encodeURIComponent(id)}`);
    webhook = answer.data;
    etag = answer.etag;
  }
  // What the document held when it was read: a save sends only what the person changed, so fields the
  // editor does not show (filter, retry, auth, rateLimit, backupUrl...) stay as they are.
  let loaded = editorFieldsOf(webhook);
  main.append(h('h1', {}, isNew ? 'New webhook' : `Edit ${webhook.name}`));
  if (!isNew) {
    const state = webhook.enabled === false ? `Disabled${webhook.disabled?.reason ? `: ${webhook.disabled.reason}` : ' (enable it from the webhooks list)'}` : 'Enabled';
    const checks = webhook.validation && webhook.validation.ok === false ? ` · Its last check failed: ${webhook.validation.errors?.[0]?.message ?? 'see below'}` : '';
    main.append(h('p', { id: 'webhook-state' }, `${state}${checks}`));
  }
  const form = h('form', { class: 'editor', novalidate: true });
  const general = h('p', { class: 'form-error', role: 'alert' });
  const name = h('input', { name: 'name', value: loaded.name, required: true });
  // Stored event types the catalogue no longer lists stay selectable, so a save never drops them.
  const typeNames = [...eventTypes.map((type) => type.type), ...loaded.events.filter((type) => !eventTypes.some((item) => item.type === type))];
  const events = h('select', { name: 'events', multiple: true, size: '8' }, ...typeNames.map((type) => h('option', { value: type, selected: loaded.events.includes(type) }, type)));
  /** The chosen event types, in the document's order (then the catalogue's for new ones): choosing the same ones changes nothing. */
  const chosenEvents = () => {
    const chosen = [...events.selectedOptions].map((option) => option.value);
    return [...loaded.events.filter((type) => chosen.includes(type)), ...chosen.filter((type) => !loaded.events.includes(type))];
  };
  const method = h('select', { name: 'method' }, ...['POST', 'PUT', 'PATCH', 'GET', 'DELETE'].map((value) => h('option', { value, selected: loaded.method === value }, value)));
  const url = h('input', { name: 'url', value: loaded.url, type: 'text', inputmode: 'url', placeholder: 'https://crm.example.com/hooks/{{ data.call.id }}' });
  const query = h('textarea', { name: 'query', rows: '2', placeholder: 'source=hookshape' });
  query.value = mapToLines(loaded.query, '=');
  const format = h('select', { name: 'format' }, ...['json', 'xml', 'form', 'csv', 'yaml', 'text'].map((value) => h('option', { value, selected: loaded.format === value }, value)));
  const headers = h('textarea', { name: 'headers', rows: '3', placeholder: 'X-Source: hookshape' });
  headers.value = mapToLines(loaded.headers, ': ');
  const bodyField = h('div', { class: 'field' });
  const bodyLabel = h('span', { class: 'label', id: 'body-label' }, 'Body template (Liquid)');
  const bodyError = h('p', { class: 'field-error', role: 'alert', 'data-field': 'body', id: 'body-error' });
  const editorHost = h('div', { class: 'code', 'aria-labelledby': 'body-label' });
  bodyField.append(bodyLabel, editorHost, bodyError);
  // The dispatcher's checks of the draft as it is typed, under the field they are about (errors and warnings).
  const checkSlots = new Map<string, HTMLElement>();
  const checkSlot = (wrap: HTMLElement, name: string, id: string) => {
    // The body's findings are also announced as they change (its editable element is in a shadow root).
    const slot = h('div', { class: 'field-check', id, 'data-check': name, ...(name === 'body' ? { 'aria-live': 'polite' } : {}) });
    // The body's editable element is in a shadow root: editor.ts ties it to its slots.
    const control = wrap.querySelector('input, select, textarea');
    if (control) control.setAttribute('aria-describedby', `${control.getAttribute('aria-describedby') ?? ''} ${id}`.trim());
    wrap.append(slot);
    checkSlots.set(name, slot);
    return wrap;
  };
  checkSlot(bodyField, 'body', 'body-check');
  const otherChecks = h('div', { class: 'field-check', id: 'draft-checks', 'aria-live': 'polite' });
  /** Fields the person has changed in this visit: a new webhook's empty fields are not flagged before they are touched. */
  const touched = new Set<string>();
  const preview = textBlock('', 'Preview of the request');
  preview.id = 'preview';
  const previewStatus = h('p', { id: 'preview-status', role: 'status' });
  let timer: number | undefined;
  /** The draft is previewed as the person types, a moment after the last keystroke. */
  const schedulePreview = () => {
    clearTimeout(timer);
    timer = window.setTimeout(() => void runPreview(), 400);
  };
  // CodeMirror (with the HTML, CSS and JS grammars lang-liquid brings) and the delivery rules' controls load with the editor only: first load stays small.
  const [{ bodyEditor }, { rulesSection }] = await Promise.all([import('./editor.ts'), import('./rules.ts')]);
  const editor = bodyEditor(editorHost, loaded.body ?? '', 'Body template', () => {
    touched.add('body');
    schedulePreview();
  }, [bodyError, checkSlots.get('body')!]);
  // Delivery rules: filter, retry, rate limit, auth (rules.ts); its controls' checks go to their own slots.
  const rules = rulesSection(webhook, checkSlot);
  rules.element.querySelector('#rules-panel')!.classList.add('collapsible');
  /** Problems the portal finds in the rules before sending (JSON that does not parse), under their controls. */
  const localSlots = new Set<HTMLElement>();
  const showLocalProblems = (problems: FormProblem[]) => {
    for (const slot of localSlots) slot.textContent = '';
    localSlots.clear();
    const slots = new Map([...rules.element.querySelectorAll<HTMLElement>('.field-error[data-field]')].filter(usable).map((slot) => [slot.dataset.field!, slot]));
    for (const problem of problems) {
      const slot = slots.get(slotFor(problem.field, slots.keys()) ?? '') ?? general;
      slot.textContent = `${slot.textContent ? `${slot.textContent} ` : ''}${problem.field}: ${problem.message}`;
      localSlots.add(slot);
    }
    if (problems.length > 0) rules.expand(true);
  };
  /** Opens the rules when an error of a save landed in them. */
  const revealRuleErrors = () => {
    if ([...rules.element.querySelectorAll('.field-error')].some((slot) => slot.textContent)) rules.expand(true);
  };
  const picker = h('select', { 'aria-label': 'Variable' });
  const pickerInfo = h('p', { class: 'hint', id: 'picker-info' });
  /** The variables of the chosen events (each once, with the first chosen event that has it). */
  const pickable = () => {
    const seen = new Map<string, { variable: EventType['variables'][number]; type: EventType }>();
    for (const type of eventTypes.filter((item) => chosenEvents().includes(item.type))) {
      for (const variable of [...type.variables, ...envelope]) if (!variable.path.includes('[]') && !seen.has(variable.path)) seen.set(variable.path, { variable, type });
    }
    return seen;
  };
  const fillPicker = () => {
    const chosen = picker.value;
    picker.replaceChildren(...[...pickable().values()].map(({ variable }) => h('option', { value: variable.path, selected: variable.path === chosen }, `${variable.path} (${variable.type})`)));
    describePick();
  };
  const describePick = () => {
    const found = pickable().get(picker.value);
    pickerInfo.textContent = found ? `${found.variable.type} — ${found.variable.description} Sample: ${JSON.stringify(variableSample(found.type, found.variable.path)) ?? '—'}` : '';
  };
  picker.addEventListener('change', describePick);
  events.addEventListener('change', fillPicker);
  fillPicker();
  const insert = h('button', { type: 'button', onclick: () => editor.insert(format.value === 'json' && /^(number|boolean|array)$/.test(picker.selectedOptions[0]?.textContent?.match(/\((\w+)\)$/)?.[1] ?? '') ? `{{ ${picker.value} | json }}` : `{{ ${picker.value} }}`) }, 'Insert variable');

  const fields = (): EditorFields => ({
    ...rulesOfForm(rules.form()).rules,
    name: name.value,
    events: chosenEvents(),
    method: method.value,
    url: url.value,
    query: linesToMap(query.value, '='),
    format: format.value,
    headers: linesToMap(headers.value, ':'),
    body: editor.value().trim() ? editor.value() : undefined,
  });
  /** The document a save would leave: the one read, with the editor's fields as they are now (a rule as stored until its controls change). */
  const draftDocument = (): Record<string, unknown> => {
    const { id: _id, validation: _validation, health: _health, disabled: _disabled, body: _body, ...rest } = webhook;
    const { body, filter, retry, rateLimit, auth, ...shown } = fields();
    const now: Record<string, unknown> = { filter, retry, rateLimit, auth };
    const document: Record<string, unknown> = { ...rest, ...shown, ...(body === undefined ? {} : { body }) };
    for (const rule of RULES) {
      if (sameValue(loaded[rule], now[rule])) continue;
      if (now[rule] === undefined) delete document[rule];
      else document[rule] = now[rule];
    }
    return document;
  };

  // What the draft is rendered against: a catalogue sample, data the person types, or a recent event of the account.
  const sourceName = 'preview-source';
  const sources = [['sample', 'The catalogue sample'], ['data', 'Custom data'], ['event', 'A recent event']] as const;
  const sourceRadios = sources.map(([value, label], index) => {
    const radio = h('input', { type: 'radio', name: sourceName, value, id: `preview-source-${value}`, checked: index === 0 });
    return { radio, wrap: h('span', { class: 'choice' }, radio, h('label', { for: radio.id }, label)) };
  });
  const source = () => sourceRadios.find(({ radio }) => radio.checked)?.radio.value ?? 'sample';
  const previewType = h('select', { name: 'previewType' });
  const fillPreviewTypes = () => {
    const chosen = previewType.value;
    const types = chosenEvents().length > 0 ? chosenEvents() : [eventTypes[0]?.type ?? 'call.created'];
    previewType.replaceChildren(...types.map((type) => h('option', { value: type, selected: type === chosen }, type)));
  };
  fillPreviewTypes();
  const customData = h('textarea', { name: 'customData', rows: '8', spellcheck: 'false' });
  const customDataField = field("Custom data (the event's data, JSON)", customData, 'data');
  const recent = h('select', { name: 'recentEvent' });
  const recentField = field('Recent event', recent, 'eventId');
  const typeField = field('Preview as', previewType, 'eventType');
  let recentLoaded = false;
  const loadRecent = async () => {
    if (recentLoaded) return;
    recentLoaded = true;
    recent.replaceChildren(h('option', { value: '' }, 'Loading…'));
    try {
      // The delivery log is where the account's recent events are: one option per event, newest first.
      const { data } = await api<{ data: any[] }>('GET', '/deliveries?limit=50');
      const seen = new Set<string>();
      const options = data.data.filter((item) => !seen.has(item.eventId) && seen.add(item.eventId)).map((item) => h('option', { value: item.eventId }, `${item.eventType} · ${item.eventId} · ${localTime(item.createdAt)}`));
      recent.replaceChildren(...(options.length ? options : [h('option', { value: '' }, 'No events yet: they appear once one reaches a webhook')]));
    } catch (error) {
      recentLoaded = false;
      recent.replaceChildren(h('option', { value: '' }, 'Recent events cannot be read'));
      showError(recentField.error, error);
    }
  };
  const showSource = () => {
    const chosen = source();
    typeField.wrap.hidden = chosen === 'event';
    customDataField.wrap.hidden = chosen !== 'data';
    recentField.wrap.hidden = chosen !== 'event';
    if (chosen === 'data' && !customData.value.trim()) customData.value = JSON.stringify(eventTypes.find((type) => type.type === previewType.value)?.sample ?? {}, null, 2);
    if (chosen === 'event') void loadRecent().then(schedulePreview);
  };
  for (const { radio } of sourceRadios) radio.addEventListener('change', () => {
    showSource();
    schedulePreview();
  });
  for (const control of [previewType, customData, recent]) control.addEventListener(control === customData ? 'input' : 'change', schedulePreview);
  const previewControls = h('div', { class: 'preview-source' }, h('fieldset', {}, h('legend', {}, 'Preview with'), ...sourceRadios.map(({ wrap }) => wrap)), typeField.wrap, customDataField.wrap, recentField.wrap);
  showSource();

  /** What the preview is rendered against, or why it cannot be yet. */
  const previewInput = (): { eventType?: string; data?: unknown; eventId?: string } | string => {
    customDataField.error.textContent = '';
    if (source() === 'event') return recent.value ? { eventId: recent.value } : 'Pick a recent event.';
    if (source() === 'sample') return { eventType: previewType.value };
    try {
      const data = JSON.parse(customData.value);
      if (!data || typeof data !== 'object' || Array.isArray(data)) throw new Error('not an object');
      return { eventType: previewType.value, data };
    } catch {
      customDataField.error.textContent = 'Write the event\'s data as a JSON object, e.g. {"call": {"id": "c1"}}.';
      return 'The custom data is not a JSON object.';
    }
  };
  interface Check {
    field: string;
    line: number | null;
    column: number | null;
    message: string;
  }
  /** Each finding under its field (body, url, headers.X → headers...), the rest under the form; with line and column. */
  let ruleFindings = 0;
  const showChecks = (validation: { errors: Check[]; warnings: Check[] }, renderError: Check | null) => {
    const errors = [...validation.errors, ...(renderError && !validation.errors.some((item) => item.message === renderError.message) ? [renderError] : [])];
    const findings = [...errors.map((item) => ({ ...item, kind: 'Error' })), ...validation.warnings.map((item) => ({ ...item, kind: 'Warning' }))];
    // The slot whose name is the longest prefix of the finding's path (retry.attempts, auth.tokenSecretName, filter...).
    const keys = [...checkSlots].filter(([, slot]) => usable(slot)).map(([key]) => key);
    const placed = new Map<HTMLElement, HTMLElement[]>([...checkSlots.values(), otherChecks].map((slot) => [slot, []]));
    ruleFindings = 0;
    for (const item of findings) {
      const key = slotFor(item.field, keys);
      const top = key?.split('.')[0] ?? '';
      if (isNew && !webhook.id && key !== undefined && !touched.has(top)) continue;
      if ((RULES as readonly string[]).includes(top)) ruleFindings += 1;
      const where = item.line !== null && !item.message.includes(`line ${item.line}, column ${item.column}`) ? ` (line ${item.line}, column ${item.column ?? 1})` : '';
      placed.get((key === undefined ? undefined : checkSlots.get(key)) ?? otherChecks)!.push(h('p', { class: item.kind === 'Error' ? 'check-error' : 'check-warning' }, `${item.kind}: ${item.message}${where}`));
    }
    // A slot changes only when what it says does: a live region re-announces nothing that stayed.
    for (const [slot, lines] of placed) if (lines.map((line) => line.textContent).join('\n') !== [...slot.children].map((line) => line.textContent).join('\n')) slot.replaceChildren(...lines);
    rules.summarize(ruleFindings);
  };
  let previewRun = 0;
  /** The draft, unsaved, rendered by the dispatcher's code against the chosen event; its checks shown where they apply. */
  async function runPreview(): Promise<void> {
    const run = ++previewRun;
    const { problems } = rulesOfForm(rules.form());
    showLocalProblems(problems);
    if (problems.length > 0) {
      previewStatus.textContent = `Not previewed: ${problems.map((problem) => `${problem.field} ${problem.message.split(' (')[0]}`).join('; ')} (see Delivery rules).`;
      return;
    }
    const input = previewInput();
    if (typeof input === 'string') {
      previewStatus.textContent = input;
      return;
    }
    try {
      // A draft without a name yet is still rendered (a save says the name is missing).
      const draft = draftDocument();
      if (typeof draft.name === 'string' && draft.name.trim() === '') draft.name = 'Untitled webhook';
      const { data } = await api('POST', '/webhooks/preview', { body: { webhook: draft, ...(webhook.id ? { webhookId: webhook.id } : {}), ...input } });
      if (run !== previewRun) return; // a newer draft is on its way
      showChecks(data.validation, data.renderError);
      const shown = data.preview;
      if (shown) {
        preview.textContent = `${shown.method} ${shown.url}\n${Object.entries(shown.headers).map(([key, value]) => `${key}: ${value}`).join('\n')}\n\n${shown.body ?? ''}`;
        const against = shown.event.source === 'event' ? `event ${shown.event.id} (${shown.event.type})` : shown.event.source === 'data' ? `your data as ${shown.event.type}` : `the ${shown.event.type} sample`;
        previewStatus.textContent = `Rendered against ${against}. ${shown.filter.pass ? 'The filter lets it through: it would be sent.' : `The filter stops it: not sent (${shown.filter.reason}).`}`;
        rules.verdict(draft.filter === undefined ? '' : shown.filter.pass ? `With ${against}: the filter lets it through (${shown.filter.reason}).` : `With ${against}: the filter stops it (${shown.filter.reason}).`);
      } else {
        const problem = data.renderError ?? data.validation.errors[0];
        preview.textContent = '(not rendered: see the line above)';
        previewStatus.textContent = problem ? `Not rendered: ${problem.message}` : 'Not rendered.';
        rules.verdict('');
      }
    } catch (error) {
      if (run !== previewRun) return;
      showError(previewStatus, error);
    }
  }
  const touch = (event: Event) => {
    const name = (event.target as HTMLElement & { name?: string }).name;
    if (name) touched.add(name.split('.')[0]!);
  };
  form.addEventListener('input', (event) => {
    if (event.target === picker) return;
    touch(event);
    rules.summarize(ruleFindings);
    schedulePreview();
  });
  form.addEventListener('change', (event) => {
    if (event.target === events) fillPreviewTypes();
    if (event.target === picker) return;
    touch(event);
    rules.summarize(ruleFindings);
    schedulePreview();
  });
  const saved = h('p', { role: 'status' });
  async function save(): Promise<boolean> {
    const { problems } = rulesOfForm(rules.form());
    if (problems.length > 0) {
      showFieldErrors(form, general, undefined as never);
      general.textContent = 'Not saved: fix the delivery rules first (under their fields).';
      showLocalProblems(problems);
      saved.textContent = '';
      return false;
    }
    // The last save's time is not shown while this one is in flight: it would read as this one's.
    saved.textContent = 'Saving…';
    try {
      let answer;
      if (webhook.id) {
        // Only what changed, on the version that was read: someone else's change meanwhile is a 412.
        const patch = editorPatch(loaded, fields());
        answer = Object.keys(patch).length === 0 ? await api('GET', `/webhooks/${encodeURIComponent(webhook.id)}`) : await api('PATCH', `/webhooks/${encodeURIComponent(webhook.id)}`, { body: patch, ifMatch: etag });
      } else {
        const { body, query: queryMap, ...rest } = fields();
        answer = await api('POST', '/webhooks', { body: { ...rest, ...(Object.keys(queryMap).length ? { query: queryMap } : {}), ...(body === undefined ? {} : { body }) } });
      }
      webhook = answer.data;
      etag = answer.etag;
      loaded = editorFieldsOf(webhook);
      // The rules as stored: the controls show them (unless they already say the same).
      const shownRules = rulesOfForm(rules.form()).rules;
      if (RULES.some((rule) => !sameValue(shownRules[rule], loaded[rule]))) rules.fill(webhook);
      showFieldErrors(form, general, undefined as never);
      general.textContent = '';
      saved.textContent = `Saved at ${localTime(new Date().toISOString())}.`;
      if (isNew) history.replaceState(null, '', `#/editor/${encodeURIComponent(webhook.id)}`);
      await runPreview();
      return true;
    } catch (error) {
      saved.textContent = '';
      if (error instanceof ApiError && error.status === 412) general.textContent = 'Someone changed this webhook since you opened it. Reload it to see their change, then apply yours again.';
      else {
        showFieldErrors(form, general, error);
        revealRuleErrors();
      }
      return false;
    }
  }
  const testResult = h('section', { class: 'test-result', 'aria-live': 'polite' });
  const saveButton = h('button', { type: 'submit' }, 'Save');
  const sendTest = () => busy([saveButton, testButton], async () => {
    // The last test's result is not left to read as this one's.
    testResult.replaceChildren();
    if (!webhook.id && !(await save())) return;
    try {
      const { data } = await api('POST', `/webhooks/${encodeURIComponent(webhook.id)}/test`, { body: { eventType: chosenEvents()[0] ?? webhook.events?.[0] } });
      const attempt = data.attempts?.[data.attempts.length - 1];
      testResult.replaceChildren(h('h2', {}, `Test: ${data.status}`), attemptView(attempt));
    } catch (error) {
      showError(general, error);
    }
  });
  const testButton = h('button', { type: 'button', class: 'secondary', onclick: () => void sendTest() }, 'Send test');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy([saveButton, testButton], save);
  });
  form.append(
    checkSlot(field('Name', name, 'name').wrap, 'name', 'name-check'),
    checkSlot(field('Event types (choose one or more)', events, 'events').wrap, 'events', 'events-check'),
    checkSlot(field('Method', method, 'method').wrap, 'method', 'method-check'),
    checkSlot(field('URL template', url, 'url').wrap, 'url', 'url-check'),
    checkSlot(field('Query parameters (one per line, name=value)', query, 'query').wrap, 'query', 'query-check'),
    checkSlot(field('Format', format, 'format').wrap, 'format', 'format-check'),
    checkSlot(field('Headers (one per line, Name: value)', headers, 'headers').wrap, 'headers', 'headers-check'),
    h('div', { class: 'picker' }, field('Variable', picker, 'variable').wrap, insert, pickerInfo),
    bodyField,
    rules.element,
    otherChecks,
    general,
    h('div', { class: 'buttons' }, saveButton, testButton),
    saved,
  );
  main.append(form, h('section', { 'aria-labelledby': 'preview-heading' }, h('h2', { id: 'preview-heading' }, 'Preview'), previewControls, previewStatus, preview), testResult);
  void runPreview();
}

// --- Scaffold --------------------------------------------------------------------------------------

function scaffoldPage(main: HTMLElement): void {
  main.append(h('h1', {}, 'Create from an example'), h('p', {}, "Paste the request the receiving system documents — JSON, XML or SOAP, a form body, CSV, or a curl command — and pick the event. Every field is kept; values become the event's variables where one fits."));
  const form = h('form', { novalidate: true });
  const type = h('select', { name: 'eventType' }, ...eventTypes.map((item) => h('option', { value: item.type }, item.type)));
  const example = h('textarea', { name: 'example', rows: '10', spellcheck: 'false' });
  const general = h('p', { class: 'form-error', role: 'alert' });
  const result = h('section', { 'aria-live': 'polite' });
  form.append(field('Event type', type, 'eventType').wrap, field('Example request', example, 'example').wrap, general, h('button', { type: 'submit' }, 'Build template'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    try {
      const { data } = await api('POST', '/webhooks/scaffold', { body: { eventType: type.value, example: example.value } });
      showFieldErrors(form, general, undefined as never);
      general.textContent = '';
      const url = h('input', { value: data.draft.url, name: 'url' });
      const errorSlot = h('p', { class: 'form-error', role: 'alert' });
      const create: HTMLButtonElement = h('button', { type: 'button', onclick: () => void busy([create], async () => {
        try {
          const created = await api('POST', '/webhooks', { body: { ...data.draft, url: url.value } });
          location.hash = `#/editor/${encodeURIComponent(created.data.id)}`;
        } catch (error) {
          showError(errorSlot, error);
        }
      }) }, 'Create webhook');
      result.replaceChildren(
        h('h2', {}, 'Template'),
        h('p', {}, `${data.mapped.length} fields take variables, ${data.unmatched.length} stay as written.`),
        textBlock(data.draft.body ?? '', 'Body template'),
        h('h3', {}, 'Mapped'),
        h('ul', {}, ...data.mapped.map((item: any) => h('li', {}, `${item.path} ← ${item.variable}`))),
        h('h3', {}, 'Kept as written (check these)'),
        h('ul', { class: 'unmatched' }, ...data.unmatched.map((item: any) => h('li', {}, h('mark', {}, item.path), ` line ${item.line}, column ${item.column}: ${item.value}`))),
        h('p', {}, data.secrets.length ? `Set these secrets before the first delivery: ${data.secrets.join(', ')}` : 'The template reads no secret.'),
        field('Receiver URL', url, 'url').wrap,
        create,
        errorSlot,
      );
    } catch (error) {
      showFieldErrors(form, general, error);
    }
  });
  main.append(form, result);
}

// --- Deliveries ------------------------------------------------------------------------------------

/** Attempts made so far: the record keeps the first and the latest ten, and counts the others. */
const attemptCount = (record: any): number => (record.attempts ?? []).length + (record.attemptsDropped ?? 0);

/**
 * A body as the delivery log keeps it (requests up to 16 KiB, answers up to 8 KiB, none in a compacted
 * record), followed by what was left out: a cut body never passes for the whole one.
 */
function loggedBody(part: { body?: string | null; bodyBytes?: number; bodyTruncated?: boolean }, verb: 'sent' | 'read'): string {
  const body = part.body ?? '';
  if (!part.bodyTruncated) return body;
  const kept = new TextEncoder().encode(body).length;
  const total = typeof part.bodyBytes === 'number' ? `${part.bodyBytes.toLocaleString('en')} bytes ${verb}` : `the bytes ${verb}`;
  return `${body}${body ? '\n' : ''}[truncated: the log keeps ${kept > 0 ? `the first ${kept.toLocaleString('en')}` : 'none'} of ${total}]`;
}

function attemptView(attempt: any): HTMLElement {
  if (!attempt) return h('p', {}, 'No attempt recorded.');
  const headers = (map: Record<string, string> | undefined) => Object.entries(map ?? {}).map(([key, value]) => `${key}: ${value}`).join('\n');
  return h(
    'div',
    { class: 'attempt' },
    h('h3', {}, `Attempt ${attempt.number} (${attempt.target}) · ${attempt.outcome} · ${attempt.durationMs} ms · ${localTime(attempt.startedAt)}`),
    h('p', {}, attempt.summary ?? ''),
    h('div', { class: 'pair' },
      h('div', {}, h('h4', {}, 'Request'), textBlock(attempt.request ? `${attempt.request.method} ${attempt.request.url}\n${headers(attempt.request.headers)}\n\n${loggedBody(attempt.request, 'sent')}` : 'not recorded', 'Request')),
      h('div', {}, h('h4', {}, 'Response'), textBlock(attempt.response ? `${attempt.response.status}\n${headers(attempt.response.headers)}\n\n${loggedBody(attempt.response, 'read')}` : attempt.error ? `${attempt.error.code}: ${attempt.error.message}` : 'no response', 'Response')),
    ),
  );
}

/**
 * The delivery log. `target` comes from a link: `#/deliveries/<webhook>/<event>` (one delivery, as a
 * hookshape.delivery.failed event links it) or `#/events/<event>` (every webhook's delivery of an event,
 * as hookshape.event.dead_lettered links it).
 */
async function deliveriesPage(main: HTMLElement, target?: { webhookId?: string; eventId: string }): Promise<void> {
  main.append(h('h1', {}, 'Deliveries'));
  const { data: hooks } = await api<{ data: any[] }>('GET', '/webhooks?limit=100');
  if (target?.webhookId && !hooks.data.some((item) => item.id === target.webhookId)) hooks.data.push({ id: target.webhookId, name: target.webhookId });
  const form = h('form', { class: 'filters' });
  const webhookSelect = h('select', { name: 'webhookId' }, h('option', { value: '' }, 'All webhooks'), ...hooks.data.map((item) => h('option', { value: item.id }, item.name)));
  const statusSelect = h('select', { name: 'status' }, h('option', { value: '' }, 'Any status'), ...['pending', 'retrying', 'succeeded', 'failed', 'invalid'].map((value) => h('option', { value }, value)));
  const typeSelect = h('select', { name: 'eventType' }, h('option', { value: '' }, 'Any event type'), ...eventTypes.map((item) => h('option', { value: item.type }, item.type)));
  const since = h('input', { type: 'datetime-local', name: 'since' });
  form.append(field('Webhook', webhookSelect).wrap, field('Status', statusSelect).wrap, field('Event type', typeSelect).wrap, field('Since', since).wrap, h('button', { type: 'submit' }, 'Filter'));
  const list = h('section', { 'aria-live': 'polite' });
  const detail = h('section', { id: 'delivery-detail', tabindex: '-1' });
  const status = h('p', { role: 'status' });
  const load = async () => {
    const query = new URLSearchParams({ limit: '50' });
    if (webhookSelect.value) query.set('webhookId', webhookSelect.value);
    if (statusSelect.value) query.set('status', statusSelect.value);
    if (typeSelect.value) query.set('eventType', typeSelect.value);
    if (since.value) query.set('since', new Date(since.value).toISOString());
    try {
      const { data } = await api<{ data: any[] }>('GET', `/deliveries?${query}`);
      if (data.data.length === 0) return list.replaceChildren(h('p', { class: 'empty' }, 'No deliveries match. Deliveries appear here when an event reaches a webhook; use Send test in the editor to make one.'));
      list.replaceChildren(h('ul', { class: 'deliveries' }, ...data.data.map((item) => h('li', {}, h('button', { type: 'button', class: 'link', onclick: () => void show(item.webhookId, item.eventId) }, `${item.status} · ${item.eventType} · ${item.eventId} · ${localTime(item.createdAt)}`)))));
    } catch (error) {
      showError(status, error);
    }
  };
  /** Shows one delivery; answers its record (undefined when it could not be read). */
  const show = async (webhookId: string, eventId: string, focus = true): Promise<any> => {
    let data: any;
    try {
      data = (await api('GET', `/webhooks/${encodeURIComponent(webhookId)}/deliveries/${encodeURIComponent(eventId)}`)).data;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) status.textContent = `No delivery of event ${eventId} to webhook ${webhookId}: the webhook never received it, or its record has expired.`;
      else showError(status, error);
      return;
    }
    const replay: HTMLButtonElement = h('button', { type: 'button', onclick: () => void busy([replay], async () => {
      status.textContent = '';
      try {
        await api('POST', `/webhooks/${encodeURIComponent(webhookId)}/deliveries/${encodeURIComponent(eventId)}/replay`);
        status.textContent = `Replay of ${eventId} started.`;
        follow(webhookId, eventId, attemptCount(data));
      } catch (error) {
        showError(status, error);
      }
    }) }, 'Replay');
    detail.replaceChildren(h('h2', {}, `Delivery ${eventId}: ${data.status}`), replay, ...(data.attempts ?? []).map(attemptView));
    if (focus) detail.focus();
    return data;
  };
  // After a replay, the delivery is shown again as its attempts come in, until the new series has an
  // attempt and the delivery is final again (retries may take minutes: it stops following after 2),
  // or the page is left.
  const follow = (webhookId: string, eventId: string, attemptsBefore: number, until = Date.now() + 120_000) => {
    setTimeout(async () => {
      if (!detail.isConnected) return;
      const data = await show(webhookId, eventId, false);
      const done = data && attemptCount(data) > attemptsBefore && ['succeeded', 'failed', 'invalid'].includes(data.status);
      if (!done && Date.now() < until) follow(webhookId, eventId, attemptsBefore, until);
    }, 1500);
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void load();
  });
  const recoverSince = h('input', { type: 'datetime-local', name: 'recoverSince' });
  const recoverStatus = h('p', { role: 'status' });
  const recoverButton = h('button', { type: 'submit' }, 'Recover');
  const recover = h('form', { class: 'recover' }, field('Recover all failed since', recoverSince, 'since').wrap, recoverButton, recoverStatus);
  // The job the status follows: an earlier job's poll stops writing once a new one is started.
  let following = 0;
  recover.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (recoverButton.disabled) return; // one job started at a time: the first is still being created
    const mine = ++following;
    const current = () => mine === following && recoverStatus.isConnected;
    recoverStatus.textContent = 'Starting…';
    try {
      const started = await busy([recoverButton], () => api('POST', '/recover-jobs', { body: { since: new Date(recoverSince.value || Date.now() - 86_400_000).toISOString() } }));
      if (!started) return;
      const { data: job } = started;
      // Followed while the page shows it, for 10 minutes at most (retries may take hours): slower as it goes.
      const until = Date.now() + 600_000;
      const poll = async (waitMs: number): Promise<void> => {
        const { data: now } = await api('GET', `/recover-jobs/${job.id}`);
        if (!current()) return;
        const text = `${now.replayed} of ${now.matched} replayed; ${Object.entries(now.progress.byStatus).map(([key, value]) => `${value} ${key}`).join(', ') || 'waiting'}`;
        // The job is `done` once every replay is enqueued; its deliveries are followed until they end.
        const more = !now.progress.finished && now.state !== 'interrupted';
        recoverStatus.textContent = `${text}${now.progress.finished ? ' — done' : more && Date.now() >= until ? ' (still running: open Deliveries again to see where it is)' : '…'}`;
        if (!more || Date.now() >= until) return;
        setTimeout(() => {
          if (current()) poll(Math.min(waitMs * 2, 10_000)).catch((error: unknown) => current() && showError(recoverStatus, error));
        }, waitMs);
      };
      await poll(1000);
    } catch (error) {
      if (current()) showError(recoverStatus, error);
    }
  });
  main.append(form, status, list, detail, h('h2', {}, 'Recover'), recover);
  if (target?.webhookId) {
    webhookSelect.value = target.webhookId;
    await load();
    await show(target.webhookId, target.eventId);
  } else if (target) {
    await load();
    await eventDeliveries(target.eventId);
  } else await load();

  /** Each webhook's record of one event (records are keyed by event id), found by asking for each. */
  async function eventDeliveries(eventId: string): Promise<void> {
    const found: any[] = [];
    for (let start = 0; start < hooks.data.length; start += 8) {
      const answers = await Promise.all(hooks.data.slice(start, start + 8).map((hook) => api('GET', `/webhooks/${encodeURIComponent(hook.id)}/deliveries/${encodeURIComponent(eventId)}`).then((answer) => answer.data, () => undefined)));
      found.push(...answers.filter(Boolean));
    }
    const name = (webhookId: string) => hooks.data.find((hook) => hook.id === webhookId)?.name ?? webhookId;
    detail.replaceChildren(
      h('h2', {}, `Event ${eventId}`),
      found.length === 0
        ? h('p', { class: 'empty' }, `No webhook of this account has a delivery of event ${eventId}. An event that was dead-lettered may have none: once the cause is fixed, publish it again.`)
        : h('ul', { class: 'deliveries' }, ...found.map((item) => h('li', {}, h('button', { type: 'button', class: 'link', onclick: () => void show(item.webhookId, item.eventId) }, `${item.status} · ${name(item.webhookId)} · ${localTime(item.createdAt)}`)))),
    );
    detail.focus();
  }
}

// --- Secrets ---------------------------------------------------------------------------------------

async function secretsPage(main: HTMLElement): Promise<void> {
  main.append(h('h1', {}, 'Signing secret'), h('p', {}, 'Requests are signed with Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature). The secret is never shown again after saving.'));
  const { data: hooks } = await api<{ data: any[] }>('GET', '/webhooks?limit=100');
  if (hooks.data.length === 0) return void main.append(h('p', { class: 'empty' }, 'Create a webhook first; then set its signing secret here.'));
  const form = h('form', { novalidate: true });
  const select = h('select', { name: 'webhook' }, ...hooks.data.map((item) => h('option', { value: item.id }, item.name)));
  const secret = h('input', { name: 'secret', type: 'password', autocomplete: 'off' });
  const general = h('p', { class: 'form-error', role: 'alert' });
  const status = h('p', { role: 'status' });
  const generate = h('button', { type: 'button', class: 'secondary', onclick: () => {
    const bytes = crypto.getRandomValues(new Uint8Array(32));
    secret.value = `whsec_${btoa(String.fromCharCode(...bytes))}`;
    secret.type = 'text';
  } }, 'Generate');
  // A rotation keeps the previous secret signing for 24 hours (the API's default), unless it leaked.
  const endPrevious = h('input', { type: 'checkbox', name: 'endPrevious' });
  const endPreviousLabel = h('label', { class: 'check' }, endPrevious, ' Stop signing with the previous secret now (it leaked). Otherwise requests carry both signatures for 24 hours, so your receiver can switch (from a minute after saving) without rejecting any.');
  const save = h('button', { type: 'submit' }, 'Save secret');
  form.append(field('Webhook', select, 'webhook').wrap, field('New secret (whsec_…)', secret, 'secret').wrap, generate, endPreviousLabel, general, save, status);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    // One save at a time, and the last answer's message is gone until this one's arrives: a second
    // save while the first is in flight would read the form the first answer then resets.
    void busy([save, generate], async () => {
      status.textContent = 'Saving…';
      try {
        const body = endPrevious.checked ? { secret: secret.value, keepPreviousSeconds: 0 } : { secret: secret.value };
        const { data } = await api('PUT', `/webhooks/${encodeURIComponent(select.value)}/signing-secret`, { body });
        secret.value = '';
        secret.type = 'password';
        endPrevious.checked = false;
        general.textContent = '';
        status.textContent = data.previous
          ? `Saved as ${data.name}. Until ${localTime(data.previous.until)}, requests are also signed with the previous secret.`
          : `Saved as ${data.name}. Deliveries are signed with it from now on.`;
      } catch (error) {
        status.textContent = '';
        showFieldErrors(form, general, error);
      }
    });
  });
  const snippet = textBlock(
    [
      "// Node: npm install standardwebhooks",
      "import { Webhook } from 'standardwebhooks';",
      "const wh = new Webhook(process.env.WEBHOOK_SECRET); // the whsec_… secret",
      '// In your handler, with the raw body (a string, not parsed JSON):',
      'const payload = wh.verify(rawBody, {',
      "  'webhook-id': req.headers['webhook-id'],",
      "  'webhook-timestamp': req.headers['webhook-timestamp'],",
      "  'webhook-signature': req.headers['webhook-signature'],",
      '}); // throws when the signature or the timestamp is wrong',
    ].join('\n'),
    'Verification snippet',
  );
  main.append(form, h('h2', {}, 'Verify on the receiver'), snippet);
}

// --- Shell -----------------------------------------------------------------------------------------

const PAGES: Array<[string, string]> = [['webhooks', 'Webhooks'], ['editor/new', 'Editor'], ['scaffold', 'Scaffold'], ['deliveries', 'Deliveries'], ['secrets', 'Secrets']];

async function render(): Promise<void> {
  // Session expired is final: moving to another page (a link, Back) shows it again, and asks the API nothing.
  if (sessionEnded()) return expired();
  const route = location.hash.replace(/^#\/?/, '') || 'webhooks';
  const main = h('main', { id: 'main', tabindex: '-1' });
  const nav = h('nav', { 'aria-label': 'Portal' }, h('ul', {}, ...PAGES.map(([path, label]) => h('li', {}, h('a', { href: `#/${path}`, 'aria-current': (route.split('/')[0] === 'events' ? 'deliveries' : route.split('/')[0]) === path.split('/')[0] ? 'page' : undefined }, label)))));
  const header = app.querySelector('header') ?? h('header', {}, h('a', { href: '#main', class: 'skip' }, 'Skip to content'));
  app.replaceChildren(header, nav, main);
  try {
    // Links hookshape's operational events carry (data.portalPath): #/webhooks/<id>, #/deliveries/<webhook>/<event>, #/events/<event>.
    const parts = route.split('/').map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
    if (route.startsWith('editor/')) await editorPage(main, decodeURIComponent(route.slice(7)));
    else if (parts[0] === 'webhooks' && parts.length === 2 && parts[1]) await editorPage(main, parts[1]);
    else if (parts[0] === 'deliveries' && parts.length === 3 && parts[1] && parts[2]) await deliveriesPage(main, { webhookId: parts[1], eventId: parts[2] });
    else if (parts[0] === 'events' && parts.length === 2 && parts[1]) await deliveriesPage(main, { eventId: parts[1] });
    else if (route === 'scaffold') scaffoldPage(main);
    else if (route === 'deliveries') await deliveriesPage(main);
    else if (route === 'secrets') await secretsPage(main);
    else await webhooksPage(main);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return;
    main.append(h('p', { class: 'form-error', role: 'alert' }, error instanceof Error ? error.message : String(error)));
  }
  document.title = `${main.querySelector('h1')?.textContent ?? 'Webhooks'} — ${document.title.split(' — ').pop()}`;
}

/** Said where the page would be when the portal cannot start (its settings or the catalogue unreadable): never a blank page. */
function cannotStart(reason: string): void {
  const header = app.querySelector('header');
  app.replaceChildren(...(header ? [header] : []), h('main', { id: 'main' }, h('h1', {}, 'Webhooks'), h('p', { class: 'form-error', role: 'alert' }, `The portal cannot start: ${reason} Reload the page to try again.`)));
}

async function boot(): Promise<void> {
  const started = startSession();
  if (started === 'expired') return expired();
  session = started;
  let config: Config;
  try {
    const response = await fetch('/portal/config.json', { credentials: 'omit' });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    config = (await response.json()) as Config;
  } catch {
    return cannotStart('its settings cannot be read.');
  }
  const root = document.documentElement.style;
  if (config.branding.primaryColor) root.setProperty('--brand', config.branding.primaryColor);
  if (config.branding.contrastColor) root.setProperty('--brand-contrast', config.branding.contrastColor);
  document.title = config.branding.name;
  const header = h('header', {}, h('a', { href: '#main', class: 'skip' }, 'Skip to content'), config.branding.logo ? h('img', { src: config.branding.logo, alt: '', class: 'logo' }) : null, h('span', { class: 'brand' }, config.branding.name));
  app.replaceChildren(header);
  api = createClient(session, expired);
  keepFresh(session, config.embedOrigins, expired);
  try {
    const { data } = await api<{ data: EventType[]; envelope: EventType['variables'] }>('GET', '/event-types');
    eventTypes = data.data;
    envelope = data.envelope;
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return; // the expired screen is showing
    return cannotStart(error instanceof Error ? error.message : String(error));
  }
  window.addEventListener('hashchange', () => void render());
  await render();
}

void boot();
