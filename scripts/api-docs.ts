/**
 * Renders the management API's route table (functions/src/api/routes.ts, from which the OpenAPI
 * document at /v1/openapi.json is generated too) as the Markdown of docs/api.md.
 *
 *   node scripts/api-docs.ts           print the Markdown
 *   node scripts/api-docs.ts --write   replace the section of docs/api.md between the api-routes markers
 *   node scripts/api-docs.ts --check   exit 1 if that section is out of date
 *
 * Only the text between the markers is ever touched; the rest of docs/api.md belongs to its authors.
 */

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { routes } from '../functions/src/api/routes.ts';
import { extractSection, runWhenMain } from './doc-sections.ts';

export const SECTION = 'api-routes';

/** docs/api.md (scripts/ is at the repository root). */
export const API_DOC_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'api.md');

const cell = (text: string): string => text.replace(/\r?\n/g, ' ').replaceAll('|', '\\|');

/** One row per route, in the route table's order: method, path, scope, operation id, summary. */
export function renderApiRoutesMarkdown(): string {
  return [
    '| Method | Path | Scope | Operation | What it does |',
    '|---|---|---|---|---|',
    ...Object.values(routes).map(({ route, scope, alsoScopes }) => {
      const { method, path, operationId, summary } = route as { method: string; path: string; operationId?: string; summary?: string };
      return `| \`${method.toUpperCase()}\` | \`${path}\` | ${[scope, ...alsoScopes].map((item) => `\`${item}\``).join(' + ')} | \`${operationId ?? ''}\` | ${cell(summary ?? '')} |`;
    }),
  ].join('\n');
}

export const extractRoutesSection = (doc: string): string => extractSection(doc, SECTION);

runWhenMain(import.meta.url, { docPath: API_DOC_PATH, section: SECTION, script: 'scripts/api-docs.ts', what: 'route table', render: renderApiRoutesMarkdown });
