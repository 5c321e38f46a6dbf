/**
 * How the CLI talks: exit codes, errors that carry them, colours only on a terminal, plain tables,
 * and --json output for scripts.
 */

export const EXIT = {
  ok: 0,
  /** What was checked failed: validation errors, a delivery that did not succeed. */
  failed: 1,
  /** The command line is wrong. */
  usage: 2,
  /** The emulators or Google Cloud cannot be reached (or refused the credentials). */
  unreachable: 3,
} as const;

/** Ends the command with an exit code and a message for people (stderr). */
export class CliError extends Error {
  override name = 'CliError';
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(exitCode: number, message: string, hint?: string) {
    super(message);
    this.exitCode = exitCode;
    this.hint = hint;
  }
}

export const usageError = (message: string, command?: string) => new CliError(EXIT.usage, message, `see hookshape ${command ? `${command} ` : ''}--help`);
export const checkFailed = (message: string) => new CliError(EXIT.failed, message);

const useColour = (stream: NodeJS.WriteStream) => stream.isTTY === true && !process.env.NO_COLOR;
const paint = (code: number) => (text: string, stream: NodeJS.WriteStream = process.stdout) => (useColour(stream) ? `\u001b[${code}m${text}\u001b[0m` : text);
export const bold = paint(1);
export const dim = paint(2);
export const red = paint(31);
export const green = paint(32);
export const yellow = paint(33);

export const out = (text = '') => void process.stdout.write(`${text}\n`);
export const note = (text: string) => void process.stderr.write(`${text}\n`);
export const printJson = (value: unknown) => out(JSON.stringify(value, null, 2));

const visibleLength = (text: string) => [...text.replace(/\u001b\[\d+m/g, '')].length;
const cut = (text: string, width: number) => ([...text].length > width ? `${[...text].slice(0, Math.max(1, width - 1)).join('')}…` : text);

/**
 * A table with a header row, columns padded to their widest cell. The last column is cut to the
 * terminal's width when there is a terminal; piped output keeps everything.
 */
export function table(headers: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = headers.map((header, index) => Math.max(visibleLength(header), ...rows.map((row) => visibleLength(row[index] ?? ''))));
  const columns = process.stdout.isTTY ? process.stdout.columns : undefined;
  const line = (cells: readonly string[]) => {
    const text = cells
      .map((cell, index) => (index === cells.length - 1 ? cell : cell + ' '.repeat((widths[index] ?? 0) - visibleLength(cell))))
      .join('  ')
      .trimEnd();
    return columns ? cut(text, columns) : text;
  };
  return [line(headers.map((header) => bold(header))), ...rows.map(line)].join('\n');
}

/** 2026-05-01 10:00:03Z: seconds are enough to read a log, and always UTC like the records. */
export function shortTime(value: Date | null | undefined): string {
  if (!value) return '';
  return value.toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

/** An excerpt of a response or request body on a few lines. */
export function excerpt(text: string | null | undefined, max = 500): string {
  if (!text) return '';
  return [...text].length > max ? `${[...text].slice(0, max).join('')}…` : text;
}
