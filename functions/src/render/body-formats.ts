import type { BodyFormat } from '../webhooks/webhook-config.ts';
import type { EscapeMode } from './output-escapers.ts';
import { locateJsonError } from './json-syntax.ts';

/** Content-Type sent for each format unless the webhook's own headers set one. */
export const CONTENT_TYPES: Record<BodyFormat, string> = {
  json: 'application/json; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  text: 'text/plain; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  yaml: 'application/yaml; charset=utf-8',
  form: 'application/x-www-form-urlencoded',
};

/** The escaping applied to `{{ }}` outputs in a body of each format; text is sent as rendered. */
export const BODY_ESCAPE: Record<BodyFormat, EscapeMode> = {
  json: 'json',
  xml: 'xml',
  text: 'none',
  csv: 'csv',
  yaml: 'yaml',
  form: 'form',
};

export interface SyntaxProblem {
  message: string;
  line?: number;
  column?: number;
}

function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, column: offset - before.lastIndexOf('\n') };
}

export type BodySyntaxCheck = (body: string) => SyntaxProblem | undefined;

function checkJson(body: string): SyntaxProblem | undefined {
  try {
    JSON.parse(body);
    return undefined;
  } catch {
    const { offset, message } = locateJsonError(body);
    return { message, ...lineAndColumn(body, offset) };
  }
}

const noCheck: BodySyntaxCheck = () => undefined;

/**
 * The check that a rendered body parses as its format. The XML and YAML parsers are loaded on first use
 * so that webhooks that never send XML or YAML do not pay for them at cold start; once loaded, checking
 * is synchronous.
 */
export async function bodySyntaxCheck(format: BodyFormat): Promise<BodySyntaxCheck> {
  switch (format) {
    case 'json':
      return checkJson;
    case 'xml': {
      const { XMLValidator } = await import('fast-xml-parser');
      return (body) => {
        const result = XMLValidator.validate(body);
        return result === true ? undefined : { message: result.err.msg, line: result.err.line, column: result.err.col };
      };
    }
    case 'yaml': {
      const { parseAllDocuments } = await import('yaml');
      return (body) => {
        for (const document of parseAllDocuments(body)) {
          const error = 'errors' in document ? document.errors[0] : undefined;
          if (error) {
            const position = error.linePos?.[0];
            return { message: error.message.split('\n')[0] ?? error.message, ...(position ? { line: position.line, column: position.col } : {}) };
          }
        }
        return undefined;
      };
    }
    default:
      return noCheck;
  }
}
