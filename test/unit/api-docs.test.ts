import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { routes } from '../../functions/src/api/routes.ts';
import { API_DOC_PATH, extractRoutesSection, renderApiRoutesMarkdown } from '../../scripts/api-docs.ts';

test('docs/api.md route table equals renderApiRoutesMarkdown() (run: node scripts/api-docs.ts --write)', () => {
  assert.equal(extractRoutesSection(readFileSync(API_DOC_PATH, 'utf8')), renderApiRoutesMarkdown());
});

test('the generated route table has one row per route of the route table, with its method, path and scopes', () => {
  const markdown = renderApiRoutesMarkdown();
  const rows = markdown.split('\n').slice(2);
  assert.equal(rows.length, Object.keys(routes).length);
  for (const { route, scope, alsoScopes } of Object.values(routes)) {
    const { method, path, operationId } = route as { method: string; path: string; operationId: string };
    const row = rows.find((line) => line.includes(`\`${operationId}\``));
    assert.ok(row, operationId);
    assert.ok(row.startsWith(`| \`${method.toUpperCase()}\` | \`${path}\` | ${[scope, ...alsoScopes].map((item) => `\`${item}\``).join(' + ')} |`), row);
  }
});
