/**
 * Structured logs as Cloud Logging reads them from stdout: one JSON object per line with `severity` and
 * `message`; the other fields (eventId, webhookId, deliveryId...) become the entry's jsonPayload.
 * Never pass secrets, headers or bodies here: the delivery log holds those, redacted.
 */
export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR';
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  log(severity: Severity, message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

/** Cloud Logging's special fields of a structured line: lifted into the LogEntry, out of jsonPayload. */
export const TRACE_FIELD = 'logging.googleapis.com/trace';
export const SPAN_ID_FIELD = 'logging.googleapis.com/spanId';
export const TRACE_SAMPLED_FIELD = 'logging.googleapis.com/trace_sampled';

export interface JsonLoggerOptions {
  /** Names the trace: `projects/PROJECT/traces/TRACE_ID`, the form Cloud Logging links to Cloud Trace. */
  projectId?: string;
}

/**
 * The fields of one line as written: the trace fields of log/trace.ts (`traceId`, `spanId`,
 * `traceSampled`) become Cloud Logging's special fields; `traceId` also stays in the payload, so a
 * filter on jsonPayload.traceId finds a delivery's lines (and the trace is readable locally).
 */
function lineFields(fields: LogFields, options: JsonLoggerOptions): LogFields {
  const { spanId, traceSampled, ...rest } = fields;
  const traceId = fields['traceId'];
  if (typeof traceId !== 'string') return fields;
  return {
    ...rest,
    [TRACE_FIELD]: options.projectId ? `projects/${options.projectId}/traces/${traceId}` : traceId,
    ...(typeof spanId === 'string' ? { [SPAN_ID_FIELD]: spanId } : {}),
    ...(typeof traceSampled === 'boolean' ? { [TRACE_SAMPLED_FIELD]: traceSampled } : {}),
  };
}

/** A class, not an object of closures: a delivery in flight holds a few child loggers, 1,000 deliveries thousands. */
class JsonLogger implements Logger {
  readonly #write: (line: string) => void;
  readonly #base: LogFields;
  readonly #options: JsonLoggerOptions;

  constructor(write: (line: string) => void, base: LogFields, options: JsonLoggerOptions) {
    this.#write = write;
    this.#base = base;
    this.#options = options;
  }

  log(severity: Severity, message: string, fields: LogFields = {}): void {
    this.#write(JSON.stringify({ severity, message, ...lineFields({ ...this.#base, ...fields }, this.#options), time: new Date().toISOString() }));
  }

  child(fields: LogFields): Logger {
    return new JsonLogger(this.#write, { ...this.#base, ...fields }, this.#options);
  }
}

export function createJsonLogger(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`), base: LogFields = {}, options: JsonLoggerOptions = {}): Logger {
  return new JsonLogger(write, base, options);
}

/** Drops every line: where nobody reads the store's log lines (the local stack's own key, benchmarks). */
export const silentLogger: Logger = { log: () => undefined, child: () => silentLogger };

/** Writes the message of each ERROR line as plain text, drops the rest: the CLI, whose stderr people read. */
export function createErrorTextLogger(write: (text: string) => void): Logger {
  const logger: Logger = {
    log: (severity, message) => void (severity === 'ERROR' && write(message)),
    child: () => logger,
  };
  return logger;
}

/** Keeps entries in memory: for tests that assert what was logged. */
export function createMemoryLogger(): Logger & { entries: Array<{ severity: Severity; message: string } & LogFields> } {
  const entries: Array<{ severity: Severity; message: string } & LogFields> = [];
  const make = (base: LogFields): Logger => ({
    log: (severity, message, fields = {}) => void entries.push({ severity, message, ...base, ...fields }),
    child: (fields) => make({ ...base, ...fields }),
  });
  return Object.assign(make({}), { entries });
}
