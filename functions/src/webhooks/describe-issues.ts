import type { z } from 'zod';

/** One schema problem: the field path as a console user sees it (`events[0]`, `headers.X`) and why. */
export interface FieldIssue {
  field: string;
  message: string;
}

export function fieldIssues(issues: readonly z.core.$ZodIssue[]): FieldIssue[] {
  return issues.map((issue) => ({
    field: issue.path.map((part, index) => (typeof part === 'number' ? `[${part}]` : index === 0 ? String(part) : `.${String(part)}`)).join(''),
    message: issue.message,
  }));
}

/** One sentence a console user can act on: "events[0]: ...; method: ...". */
export function describeFieldIssues(issues: readonly FieldIssue[]): string {
  return issues.map(({ field, message }) => (field ? `${field}: ${message}` : message)).join('; ');
}

export const describeIssues = (issues: readonly z.core.$ZodIssue[]): string => describeFieldIssues(fieldIssues(issues));
