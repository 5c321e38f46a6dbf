import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { editorFieldsOf, editorPatch, linesToMap, mapToLines } from '../../portal/src/webhook-fields.ts';

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
