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

export function createJsonLogger(write: (line: string) => void = (line) => process.stdout.write(`${line}\n`), base: LogFields = {}): Logger {
  return {
    log(severity, message, fields = {}) {
      write(JSON.stringify({ severity, message, ...base, ...fields, time: new Date().toISOString() }));
    },
    child(fields) {
      return createJsonLogger(write, { ...base, ...fields });
    },
  };
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
