import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Webhook, WebhookInput } from '../../functions/src/api/schemas.ts';
import { duplicateOf, editorFieldsOf, editorPatch, HOOKSHAPE_FIELDS, linesToMap, mapToLines, rulesForm, rulesOfForm, slotFor } from '../../portal/src/webhook-fields.ts';

// The portal editor's save: a merge patch of the fields it shows that changed, nothing else.
describe('the portal editor patch', () => {
  const stored = {
    name: 'CRM',
    events: ['call.created', 'queue.abandoned'],
    method: 'post',
    url: 'https://crm.example.com/{{ data.call.id }}',
    query: { a: '1' },
    headers: { 'X-Team': 'sales' },
    format: 'JSON',
    body: '{"id": "{{ event.id }}"}',
    filter: { 'event.type': 'call.created' },
    retry: { attempts: 3 },
    auth: { type: 'bearer', tokenSecretName: 'T' },
    rateLimit: { perSecond: 5 },
    backupUrl: 'https://backup.example.com',
    timeoutSeconds: 7,
    traceparent: true,
    signingSecretName: 'SIGNING_X',
  };

  it('is empty when nothing the editor shows changed (case of method and format included)', () => {
    const loaded = editorFieldsOf(stored);
    assert.deepEqual(editorPatch(loaded, { ...loaded, method: 'POST', format: 'json' }), {});
  });

  it('names only the changed fields, never the ones the editor does not show', () => {
    const loaded = editorFieldsOf(stored);
    const patch = editorPatch(loaded, { ...loaded, name: 'CRM 2', events: [...loaded.events, 'user.created'], headers: { 'X-Team': 'support' } });
    assert.deepEqual(patch, { name: 'CRM 2', events: ['call.created', 'queue.abandoned', 'user.created'], headers: { 'X-Team': 'support' } });
  });

  it('an emptied body, query or headers goes back to its default (null)', () => {
    const loaded = editorFieldsOf(stored);
    assert.deepEqual(editorPatch(loaded, { ...loaded, body: undefined, query: {}, headers: {} }), { body: null, query: null, headers: null });
  });

  it('reads and writes header and query lines, splitting at the first separator', () => {
    assert.deepEqual(linesToMap('Authorization: Bearer {{ secrets.T }}\n\n X-Time: 10:30 ', ':'), { Authorization: 'Bearer {{ secrets.T }}', 'X-Time': '10:30' });
    assert.deepEqual(linesToMap('q={{ data.x | default: "a=b" }}', '='), { q: '{{ data.x | default: "a=b" }}' });
    assert.equal(mapToLines({ a: '1', b: '2' }, '='), 'a=1\nb=2');
  });
});

describe('the portal editor: delivery rules', () => {
  const stored = {
    name: 'CRM',
    events: ['call.created'],
    url: 'https://crm.example.com/',
    filter: { 'data.call.durationSeconds': { $gt: 60 }, 'data.queue.name': { $regex: '10:30, "x"' } },
    retry: { retryOn: [408, '5xx'], attempts: 6, schedule: 'exponential', baseDelaySeconds: 30 },
    rateLimit: { maxInFlight: 2, perSecond: 5 },
    auth: { type: 'oauth2', tokenUrl: 'https://auth.example.com/token', clientId: 'hookshape', clientSecretName: 'CRM_CLIENT_SECRET', scope: 'calls:write' },
  };

  it('shows each rule in its controls and gives the same rules back (texts inside the JSON untouched)', () => {
    const form = rulesForm(stored);
    assert.equal(form.retryAttempts, '6');
    assert.equal(form.retrySchedule, 'exponential');
    assert.deepEqual(JSON.parse(form.retryMore), { retryOn: [408, '5xx'], baseDelaySeconds: 30 });
    assert.deepEqual([form.perSecond, form.maxInFlight, form.authType, form.auth.clientSecretName], ['5', '2', 'oauth2', 'CRM_CLIENT_SECRET']);
    const { rules, problems } = rulesOfForm(form);
    assert.deepEqual(problems, []);
    assert.deepEqual(rules, { filter: stored.filter, retry: stored.retry, rateLimit: stored.rateLimit, auth: stored.auth });
  });

  it('an untouched rule is not in the patch, even when the controls give its keys in another order', () => {
    const loaded = editorFieldsOf(stored);
    const after = { ...loaded, ...rulesOfForm(rulesForm(stored)).rules };
    assert.deepEqual(editorPatch(loaded, after), {});
  });

  it('a changed rule is patched whole; a cleared one is null (the field goes)', () => {
    const loaded = editorFieldsOf(stored);
    const form = rulesForm(stored);
    const changed = rulesOfForm({ ...form, filter: '', perSecond: '', maxInFlight: '', authType: 'bearer', auth: { tokenSecretName: 'CRM_TOKEN' }, retryAttempts: '' }).rules;
    assert.deepEqual(editorPatch(loaded, { ...loaded, ...changed }), {
      filter: null,
      rateLimit: null,
      auth: { type: 'bearer', tokenSecretName: 'CRM_TOKEN' },
      retry: { retryOn: [408, '5xx'], baseDelaySeconds: 30, schedule: 'exponential' },
    });
  });

  it('sends values as typed for the API to judge, but reports JSON that does not parse', () => {
    const empty = rulesForm({});
    const { rules, problems } = rulesOfForm({ ...empty, filter: '{"data.call.id": ', retryMore: '[1]', retryAttempts: 'many', perSecond: '5', authType: 'basic', auth: { username: ' me ', passwordSecretName: '' } });
    assert.deepEqual(problems.map((problem) => problem.field), ['filter', 'retry']);
    assert.match(problems[0]!.message, /is not JSON/);
    assert.deepEqual([rules.filter, rules.retry, rules.rateLimit, rules.auth], [undefined, { attempts: 'many' }, { perSecond: 5 }, { type: 'basic', username: 'me' }]);
    assert.deepEqual(rulesOfForm(empty).rules, { filter: undefined, retry: undefined, rateLimit: undefined, auth: undefined });
  });

  it('puts a finding under the control whose path is the longest prefix of its field', () => {
    const keys = ['name', 'headers', 'body', 'filter', 'retry', 'retry.attempts', 'rateLimit', 'rateLimit.perSecond', 'auth', 'auth.tokenSecretName'];
    assert.equal(slotFor('filter.data.call.durationSeconds.$gtt', keys), 'filter');
    assert.equal(slotFor('filter.$or[0].data.queue.nmae', keys), 'filter');
    assert.equal(slotFor('retry.attempts', keys), 'retry.attempts');
    assert.equal(slotFor('retry.retryOn[1]', keys), 'retry');
    assert.equal(slotFor('retry', keys), 'retry');
    assert.equal(slotFor('auth.tokenSecretName', keys), 'auth.tokenSecretName');
    assert.equal(slotFor('auth.passwordSecretName', keys), 'auth');
    assert.equal(slotFor('rateLimit', keys), 'rateLimit');
    assert.equal(slotFor('headers.X-Agent', keys), 'headers');
    assert.equal(slotFor('retryX', keys), undefined, 'a prefix by path, not by text');
    assert.equal(slotFor('timeoutSeconds', keys), undefined);
  });
});

describe("the portal's Duplicate", () => {
  it("leaves out exactly the fields the API's Webhook view adds to the configuration (the create is strict)", () => {
    const added = Object.keys(Webhook.shape).filter((key) => !(key in WebhookInput.shape)).sort();
    assert.deepEqual([...HOOKSHAPE_FIELDS].sort(), added);
  });

  it('copies the configuration, named as a copy and disabled', () => {
    const webhook = { id: 'wh_1', name: 'CRM', events: ['call.created'], url: 'https://crm.example.com', enabled: true, validation: { ok: true }, health: { consecutiveFailures: 2 }, disabled: { reason: 'x' }, previousSigningSecret: { name: 'S_PREVIOUS', until: '2026-12-08T00:00:00Z' }, signingSecretName: 'S' };
    const parsed = WebhookInput.safeParse(duplicateOf(webhook));
    assert.ok(parsed.success, JSON.stringify(parsed.error?.issues));
    assert.deepEqual(duplicateOf(webhook), { name: 'CRM (copy)', events: ['call.created'], url: 'https://crm.example.com', enabled: false, signingSecretName: 'S' });
  });
});
