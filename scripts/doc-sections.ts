/**
 * Generated sections of hand-written Markdown: the text between `<!-- NAME:start -->` and
 * `<!-- NAME:end -->` belongs to a generator (scripts/event-docs.ts, scripts/api-docs.ts); everything
 * around it belongs to the document's authors and is never touched.
 */

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
