/**
 * The editor's "Delivery rules" section: the webhook's filter, retry policy, rate limit and outbound
 * authentication (docs/webhooks.md). A disclosure (a button with aria-expanded) over labelled controls;
 * each control has the slots its errors and checks go to, named by the path they are about
 * (`retry.attempts`, `auth.tokenSecretName`; `filter` takes every `filter.…`). Auth takes secret NAMES.
 */
import { field, h } from './dom.ts';
import { AUTH_FIELDS, AUTH_TYPES, RETRY_SCHEDULES, rulesForm, type AuthType, type RulesForm } from './webhook-fields.ts';

export interface RulesSection {
  element: HTMLElement;
  /** What the controls hold now. */
  form(): RulesForm;
  /** Puts a document's rules in the controls. */
  fill(document: Record<string, unknown>): void;
  expanded(): boolean;
  expand(open: boolean): void;
  /** The line under the heading: which rules are set, and findings while collapsed. */
  summarize(findings: number): void;
  /** The filter's verdict for the preview's event, under the filter. */
  verdict(text: string): void;
}

const AUTH_LABELS: Record<AuthType, string> = {
  basic: 'Basic (user name and password)',
  bearer: 'Bearer token',
  header: 'API key in a header',
  oauth2: 'OAuth2 client credentials',
};

/**
 * `checkSlot(wrap, name, id)` adds the slot the draft's checks about `name` go to (main.ts), tied to the
 * wrap's control with aria-describedby.
 */
export function rulesSection(document: Record<string, unknown>, checkSlot: (wrap: HTMLElement, name: string, id: string) => HTMLElement): RulesSection {
  const hint = (id: string, text: string) => h('p', { class: 'hint', id }, text);
  /** A control with its label, its error slot (data-field), its check slot and a help text, all tied to it. */
  const control = (label: string, input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement, name: string, help?: string) => {
    const { wrap } = field(label, input, name);
    if (help) {
      const id = `${input.id}-help`;
      wrap.insertBefore(hint(id, help), wrap.querySelector('.field-error'));
      input.setAttribute('aria-describedby', `${id} ${input.getAttribute('aria-describedby') ?? ''}`.trim());
    }
    return checkSlot(wrap, name, `${name.replace(/\./g, '-')}-check`);
  };

  // Filter: a JSON condition.
  const filter = h('textarea', { name: 'filter', rows: '4', spellcheck: 'false', placeholder: '{"data.call.durationSeconds": {"$gt": 60}}' });
  const filterVerdict = h('p', { class: 'hint', id: 'filter-verdict' });
  const filterSet = h(
    'fieldset',
    {},
    h('legend', {}, 'Filter'),
    control('Filter (JSON)', filter, 'filter', 'Only events that match are sent. Keys are variable paths (data.call.durationSeconds); a value is a literal or operators: $eq $neq $gt $gte $lt $lte $in $nin $exist $regex, and $and $or $not. Empty: every event of the chosen types.'),
    filterVerdict,
  );

  // Retries: attempts and schedule, the rest as JSON.
  const attempts = h('input', { name: 'retry.attempts', type: 'number', min: '0', max: '10', step: '1', inputmode: 'numeric', placeholder: '3' });
  const schedule = h('select', { name: 'retry.schedule' }, h('option', { value: '' }, 'Default (incremental: 60, 120, 180 s)'), ...RETRY_SCHEDULES.map((value) => h('option', { value }, value)));
  const more = h('textarea', { name: 'retry', rows: '2', spellcheck: 'false', placeholder: '{"baseDelaySeconds": 30, "maxDelaySeconds": 3600, "retryOn": [408, 429, "5xx"]}' });
  const retrySet = h(
    'fieldset',
    {},
    h('legend', {}, 'Retries'),
    control('Retries after the first attempt', attempts, 'retry.attempts', '0 to 10. Empty: 3.'),
    control('Retry schedule', schedule, 'retry.schedule', 'incremental: n × base; exponential: base × 2^(n−1), capped; explicit: the waits of delaysSeconds.'),
    control('Other retry settings (JSON)', more, 'retry', 'Optional: baseDelaySeconds, maxDelaySeconds, delaysSeconds (explicit: e.g. [10, 300, 3600]), retryOn (e.g. [408, 429, "5xx"]), retryAfterCapSeconds.'),
  );

  // Rate limit: two numbers.
  const perSecond = h('input', { name: 'rateLimit.perSecond', type: 'number', min: '1', max: '500', step: '1', inputmode: 'numeric' });
  const maxInFlight = h('input', { name: 'rateLimit.maxInFlight', type: 'number', min: '1', max: '5000', step: '1', inputmode: 'numeric' });
  const rateError = h('p', { class: 'field-error', id: 'rateLimit-error', role: 'alert', 'data-field': 'rateLimit' });
  const rateWrap = h('div', { class: 'rate' }, rateError);
  const rateSet = h(
    'fieldset',
    { 'aria-describedby': 'rate-help' },
    h('legend', {}, 'Rate limit'),
    hint('rate-help', 'Requests beyond the limit wait their turn instead of being refused (e.g. 5 a second for Airtable). Empty: as fast as events come.'),
    h('div', { class: 'pair' }, control('Requests per second', perSecond, 'rateLimit.perSecond'), control('Requests in flight at once', maxInFlight, 'rateLimit.maxInFlight')),
    checkSlot(rateWrap, 'rateLimit', 'rateLimit-check'),
  );

  // Authentication: a type, and that type's fields (secret names, never values).
  const authType = h('select', { name: 'auth' }, h('option', { value: '' }, 'None'), ...AUTH_TYPES.map((value) => h('option', { value }, AUTH_LABELS[value])));
  const authInputs = new Map<string, HTMLInputElement>();
  const typeGroups = AUTH_TYPES.map((type) => {
    const group = h('div', { 'data-auth-type': type, hidden: true });
    for (const item of AUTH_FIELDS[type]) {
      const input = h('input', { name: `auth.${item.key}`, type: 'text', autocomplete: 'off', spellcheck: 'false', placeholder: item.placeholder, 'data-auth-key': item.key });
      // The same key in two types (none today) would share one input.
      authInputs.set(`${type}.${item.key}`, input);
      group.append(control(item.label, input, `auth.${item.key}`, item.secret ? "The secret's name, not its value." : undefined));
    }
    return { type, group };
  });
  const showAuthFields = () => {
    for (const { type, group } of typeGroups) group.hidden = authType.value !== type;
  };
  authType.addEventListener('change', showAuthFields);
  const authSet = h(
    'fieldset',
    { 'aria-describedby': 'auth-help' },
    h('legend', {}, 'Authentication'),
    hint('auth-help', "Credentials are secrets of your account: write the secret's name (e.g. CRM_TOKEN), never its value. Each request carries the value; this page, the webhook and the delivery log never show it."),
    control('Authentication', authType, 'auth'),
    ...typeGroups.map(({ group }) => group),
  );

  const panel = h('div', { id: 'rules-panel', class: 'rules-panel', hidden: true }, filterSet, retrySet, rateSet, authSet);
  const toggle = h('button', { type: 'button', class: 'disclosure', id: 'rules-toggle', 'aria-expanded': 'false', 'aria-controls': 'rules-panel' }, 'Delivery rules');
  const summary = h('p', { class: 'hint', id: 'rules-summary' });
  const expand = (open: boolean) => {
    panel.hidden = !open;
    toggle.setAttribute('aria-expanded', String(open));
  };
  toggle.addEventListener('click', () => expand(panel.hidden));
  const element = h('section', { class: 'rules', 'aria-labelledby': 'rules-heading' }, h('h2', { id: 'rules-heading' }, toggle), summary, panel);

  const form = (): RulesForm => {
    const auth: Record<string, string> = {};
    if (authType.value) for (const item of AUTH_FIELDS[authType.value as AuthType] ?? []) auth[item.key] = authInputs.get(`${authType.value}.${item.key}`)?.value ?? '';
    return { filter: filter.value, retryAttempts: attempts.value, retrySchedule: schedule.value, retryMore: more.value, perSecond: perSecond.value, maxInFlight: maxInFlight.value, authType: authType.value, auth };
  };
  const fill = (source: Record<string, unknown>) => {
    const values = rulesForm(source);
    filter.value = values.filter;
    attempts.value = values.retryAttempts;
    // A schedule the select does not list (a console typo) is kept as an option, so it shows and is not dropped.
    if (values.retrySchedule && ![...schedule.options].some((option) => option.value === values.retrySchedule)) schedule.append(h('option', { value: values.retrySchedule }, `${values.retrySchedule} (not a schedule)`));
    schedule.value = values.retrySchedule;
    more.value = values.retryMore;
    perSecond.value = values.perSecond;
    maxInFlight.value = values.maxInFlight;
    if (values.authType && ![...authType.options].some((option) => option.value === values.authType)) authType.append(h('option', { value: values.authType }, `${values.authType} (not a type)`));
    authType.value = values.authType;
    for (const [key, input] of authInputs) input.value = key.startsWith(`${values.authType}.`) ? (values.auth[key.slice(values.authType.length + 1)] ?? '') : '';
    showAuthFields();
  };
  fill(document);
  const summarize = (findings: number) => {
    const set = [['filter', 'filter'], ['retry', 'retries'], ['rateLimit', 'rate limit'], ['auth', 'authentication']].filter(([key]) => {
      const values = form();
      if (key === 'filter') return values.filter.trim() !== '';
      if (key === 'retry') return values.retryAttempts.trim() !== '' || values.retrySchedule !== '' || values.retryMore.trim() !== '';
      if (key === 'rateLimit') return values.perSecond.trim() !== '' || values.maxInFlight.trim() !== '';
      return values.authType !== '';
    });
    const state = set.length ? `Set: ${set.map(([, label]) => label).join(', ')}.` : 'None set: every event is sent, retried as by default, as fast as it comes, without authentication.';
    summary.textContent = findings > 0 && panel.hidden ? `${state} ${findings === 1 ? '1 finding' : `${findings} findings`} inside: open the section to see ${findings === 1 ? 'it' : 'them'}.` : state;
  };
  summarize(0);
  return { element, form, fill, expanded: () => !panel.hidden, expand, summarize, verdict: (text) => void (filterVerdict.textContent = text) };
}
