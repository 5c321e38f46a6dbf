/** The loggers of log/logger.ts other than the JSON one (tested with the trace in trace.test.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createErrorTextLogger, silentLogger } from '../../functions/src/log/logger.ts';

describe('loggers for callers that do not write Cloud Logging lines', () => {
  it('the CLI logger writes the message of ERROR lines only, children included, without fields', () => {
    const written: string[] = [];
    const logger = createErrorTextLogger((text) => written.push(text));
    for (const severity of ['DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR'] as const) logger.log(severity, `${severity} line`, { accountId: 'acc_1' });
    logger.child({ webhookId: 'wh' }).log('ERROR', 'from a child');
    assert.deepEqual(written, ['ERROR line', 'from a child']);
  });

  it('the silent logger writes nothing, and neither do its children', (t) => {
    const writes = [t.mock.method(process.stdout, 'write'), t.mock.method(process.stderr, 'write')];
    silentLogger.log('ERROR', 'dropped');
    silentLogger.child({ accountId: 'acc_1' }).log('ERROR', 'dropped');
    assert.deepEqual(writes.map((write) => write.mock.callCount()), [0, 0]);
  });
});
