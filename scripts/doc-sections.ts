/**
 * Generated sections of hand-written Markdown: the text between `<!-- NAME:start -->` and
 * `<!-- NAME:end -->` belongs to a generator (scripts/event-docs.ts, scripts/api-docs.ts); everything
 * around it belongs to the document's authors and is never touched.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const startMarker = (name: string): string => `<!-- ${name}:start -->`;
export const endMarker = (name: string): string => `<!-- ${name}:end -->`;

function markerPositions(text: string, name: string): { start: number; end: number } {
  const start = text.indexOf(startMarker(name));
  const end = text.indexOf(endMarker(name));
  if (start === -1 || end === -1 || end < start) {
    throw new Error(`no "${startMarker(name)}" ... "${endMarker(name)}" section`);
  }
  return { start: start + startMarker(name).length, end };
}

/** The Markdown currently between the markers, without the surrounding newlines. */
export function extractSection(text: string, name: string): string {
  const { start, end } = markerPositions(text, name);
  return text.slice(start, end).replace(/^\r?\n/, '').replace(/\r?\n$/, '');
}

/** `text` with the part between the markers replaced by `markdown`; everything else untouched. */
export function replaceSection(text: string, name: string, markdown: string): string {
  const { start, end } = markerPositions(text, name);
  return `${text.slice(0, start)}\n${markdown}\n${text.slice(end)}`;
}

/** GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` dropped, spaces → `-`. */
export function headingAnchor(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc}\- ]/gu, '')
    .replaceAll(' ', '-');
}

export interface GeneratedSection {
  /** The document (absolute path) and the marker name of the section. */
  docPath: string;
  section: string;
  /** The script that owns it, for the hint when it is stale (e.g. `scripts/api-docs.ts`). */
  script: string;
  /** What the section is, for messages ("route table"). */
  what: string;
  render: () => string;
}

/**
 * The command line every generator shares: no argument prints the Markdown, `--write` replaces the
 * section when it changed, `--check` exits 1 when it is stale. Returns the exit code.
 */
export function sectionCommand(generated: GeneratedSection, args: readonly string[]): number {
  const markdown = generated.render();
  if (!args.includes('--write') && !args.includes('--check')) {
    process.stdout.write(`${markdown}\n`);
    return 0;
  }
  const doc = readFileSync(generated.docPath, 'utf8');
  const upToDate = extractSection(doc, generated.section) === markdown;
  if (args.includes('--check')) {
    if (upToDate) return 0;
    console.error(`${generated.docPath}: the ${generated.what} is out of date; run: node ${generated.script} --write`);
    return 1;
  }
  if (!upToDate) writeFileSync(generated.docPath, replaceSection(doc, generated.section, markdown));
  console.log(`${generated.docPath}: ${generated.what} ${upToDate ? 'already up to date' : 'updated'}`);
  return 0;
}

/** Runs `sectionCommand` when `moduleUrl` is the script node was started with (not when imported). */
export function runWhenMain(moduleUrl: string, generated: GeneratedSection): void {
  if (process.argv[1] === undefined || resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  try {
    process.exitCode = sectionCommand(generated, process.argv.slice(2));
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  }
}
