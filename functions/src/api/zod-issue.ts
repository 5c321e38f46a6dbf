/** The part of a zod issue the API reports: where, what, and for unknown keys which. */
export interface ZodIssue {
  code: string;
  path: Array<string | number>;
  message: string;
  keys?: string[];
}
