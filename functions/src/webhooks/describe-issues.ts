import type { z } from 'zod';

/** One schema problem: the field path as a console user sees it (`events[0]`, `headers.X`) and why. */
export interface FieldIssue {
  field: string;
  message: string;
}

/** A path in a document as a console user reads it: `events[0]`, `filter.$and[1].data.x`. */
export const fieldPath = (path: readonly PropertyKey[]): string =>
  path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`)).join('');

export function fieldIssues(issues: readonly z.core.$ZodIssue[]): FieldIssue[] {
  return issues.map((issue) => ({ field: fieldPath(issue.path), message: issue.message }));
}

/** One sentence a console user can act on: "events[0]: ...; method: ...". */
export function describeFieldIssues(issues: readonly FieldIssue[]): string {
  return issues.map(({ field, message }) => (field ? `${field}: ${message}` : message)).join('; ');
}

export const describeIssues = (issues: readonly z.core.$ZodIssue[]): string => describeFieldIssues(fieldIssues(issues));

/** Levenshtein distance: how far a typo is from the word meant. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}
