/**
 * Renders the event catalogue (functions/src/events/event-catalogue.ts) as the Markdown of docs/events.md.
 *
 *   node scripts/event-docs.ts           print the Markdown
 *   node scripts/event-docs.ts --write   replace the section of docs/events.md between the event-catalogue markers
 *   node scripts/event-docs.ts --check   exit 1 if that section is out of date
 *
 * Only the text between the markers is ever touched; the rest of docs/events.md belongs to its authors.
 */

import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EVENT_CATALOGUE, EVENT_ENVELOPE_VARIABLES, EVENT_TYPES } from '../functions/src/events/event-catalogue.ts';
import type { EventVariable } from '../functions/src/events/event-catalogue.ts';
import { endMarker, extractSection, headingAnchor, replaceSection, runWhenMain, startMarker } from './doc-sections.ts';

const SECTION = 'event-catalogue';
export const START_MARKER = startMarker(SECTION);
export const END_MARKER = endMarker(SECTION);

/** docs/events.md (scripts/ is at the repository root). */
export const EVENTS_DOC_PATH = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'docs', 'events.md');

/** `data.form.fields[].label` → `{{ data.form.fields[0].label }}`. */
export function liquidFor(path: string): string {
  return `{{ ${path.replaceAll('[]', '[0]')} }}`;
}

function inlineJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(inlineJson).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([key, child]) => `${JSON.stringify(key)}: ${inlineJson(child)}`);
    return entries.length === 0 ? '{}' : `{ ${entries.join(', ')} }`;
  }
  return JSON.stringify(value);
}

/**
 * Pretty JSON that keeps short objects and arrays on one line (at most `width` columns), so a sample
 * reads like hand-written documentation instead of one value per line.
 */
export function formatJson(value: unknown, width = 100, indent = '', prefixLength = 0): string {
  const inline = inlineJson(value);
  if (value === null || typeof value !== 'object' || indent.length + prefixLength + inline.length <= width) return inline;
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    return `[\n${value.map((item) => inner + formatJson(item, width, inner)).join(',\n')}\n${indent}]`;
  }
  const entries = Object.entries(value).map(([key, child]) => {
    const head = `${JSON.stringify(key)}: `;
    return inner + head + formatJson(child, width, inner, head.length);
  });
  return `{\n${entries.join(',\n')}\n${indent}}`;
}

/** Text safe inside a GitHub table cell. */
function cell(text: string): string {
  return text.replace(/\r?\n/g, ' ').replaceAll('|', '\\|');
}

function variableTable(variables: readonly EventVariable[]): string[] {
  return [
    '| Variable | Type | Description |',
    '|---|---|---|',
    ...variables.map((v) => `| \`${cell(liquidFor(v.path))}\` | ${v.type} | ${cell(v.description)} |`),
  ];
}

export function renderEventCatalogueMarkdown(): string {
  const lines: string[] = [
    'Templates see `event` (the envelope below), `data` (the event\'s payload, documented per event), ' +
      '`webhook` (the webhook being delivered) and `secrets` (the account\'s secrets by name, e.g. ' +
      '`{{ secrets.AIRTABLE_TOKEN }}`). A `[0]` in a path stands for every item of an array: pick one by index ' +
      'or loop, e.g. `{% for tag in data.tags %}{{ tag }}{% endfor %}`. Datetimes are ISO-8601 strings in UTC.',
    '',
    ...variableTable(EVENT_ENVELOPE_VARIABLES),
    '',
    '| Event | Platform name |',
    '|---|---|',
    ...EVENT_TYPES.map((type) => `| [\`${type}\`](#${headingAnchor(type)}) | ${cell(EVENT_CATALOGUE[type].seedName)} |`),
  ];
  for (const type of EVENT_TYPES) {
    const def = EVENT_CATALOGUE[type];
    lines.push(
      '',
      `### \`${type}\``,
      '',
      `${def.description} *${def.seedName}: ${def.seedDescription.replace(/\.?$/, '.')}*`,
      '',
      ...variableTable(def.variables),
      '',
      '<details><summary>Sample</summary>',
      '',
      '```json',
      formatJson(def.sample),
      '```',
      '',
      '</details>',
    );
  }
  return lines.join('\n');
}

/** The Markdown currently between the markers, without the surrounding newlines. */
export function extractCatalogueSection(doc: string): string {
  return extractSection(doc, SECTION);
}

/** `doc` with the text between the markers replaced by `markdown`; everything else untouched. */
export function replaceCatalogueSection(doc: string, markdown: string): string {
  return replaceSection(doc, SECTION, markdown);
}

runWhenMain(import.meta.url, { docPath: EVENTS_DOC_PATH, section: SECTION, script: 'scripts/event-docs.ts', what: 'event catalogue section', render: renderEventCatalogueMarkdown });
