/**
 * Found in review: failInternally wrote the error's message into lastError as it was: a message quoting
 * a secret value kept it in the record, and a long one grew the record without bound. It is now
 * redacted and bounded like an attempt's error message (delivery-record.ts recordedErrorText).
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { LOG_RESPONSE_BODY_BYTES } from '../../functions/src/delivery/delivery-record.ts';
import { event, response, World } from './delivery-fakes.ts';

const SECRET = 'sk_live_4f9a2b7c1d';

for (const where of ['dispatcher', 'retry worker'] as const) {
  it(`${where}: an internal error quoting a secret, 100 KB long, leaves lastError and the log redacted and bounded`, async () => {
    const world = new World({ webhooks: ['wh-a'] });
    world.secrets.secrets = { API_TOKEN: SECRET };
    if (where === 'retry worker') world.sender.respond = (_request, previous) => (previous === 0 ? response(500) : response(200));
    await world.publish();
    world.faults.inject('sender.before', () => new TypeError(`bad header value ${SECRET} ${'x'.repeat(100_000)}`));
    if (where === 'retry worker') await world.runNextTask();
    else await world.publish(event('evt-2'));
    const record = world.record('wh-a', where === 'retry worker' ? 'evt-1' : 'evt-2');
    assert.equal(record.errorCode, 'internal_error');
    assert.ok(record.lastError, 'lastError is set');
    assert.ok(!record.lastError.includes(SECRET), 'no secret in lastError');
    assert.ok(record.lastError.includes('[secret]'));
    assert.ok(Buffer.byteLength(record.lastError) < LOG_RESPONSE_BODY_BYTES + 1024, `lastError is ${Buffer.byteLength(record.lastError)} bytes`);
    assert.ok(!JSON.stringify(world.logger.entries).includes(SECRET), 'no secret in the log');
  });
}
