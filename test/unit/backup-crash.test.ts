// Found in review: the backup in flight was written with next and nextAttemptAt null, which neither
// the sweep's queries nor a rerun task could see.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { GrpcStatus } from '../../functions/src/core/failures.ts';
import { World, ACCOUNT, webhookDocument, response } from './delivery-fakes.ts';

it('a worker that dies while sending the backup leaves a record the repair sweep finds and moves on (it was retrying for good)', async () => {
  const world = new World({ webhooks: ['wh-a'] });
  world.webhooks.set(ACCOUNT, 'wh-a', webhookDocument('wh-a', { backupUrl: 'https://backup.example/hooks/wh-a/{{ event.id }}' }));
  let n = 0;
  world.sender.respond = (request) => { n++; return request.url.startsWith('https://receiver.example/') ? (n === 1 ? response(500) : response(404)) : response(200); };
  await world.publish();
  // emulate the worker: it ran attempt 2 (404) and wrote the pre-backup state, then died.
  const task = world.scheduler.pending()[0]!;
  world.clock.set(task.at);
  // Run worker but make the backup send crash: throw a non-catchable by making sender hang -> instead, snapshot state at backup write
  const origUpdate = world.deliveries.update.bind(world.deliveries);
  let crashed = false;
  (world.deliveries as any).update = async (key: any, u: any) => { await origUpdate(key, u); if (u.inFlight && u.inFlight.target === 'backup') { crashed = true; throw Object.assign(new Error('SIGKILL'), { code: GrpcStatus.UNAVAILABLE }); } };
  try { await world.runTask(task.task); } catch {}
  (world.deliveries as any).update = origUpdate;
  assert.ok(crashed, 'the worker died with the backup attempt in flight');
  world.clock.advance(60 * 60_000);
  const swept = await world.sweep();
  assert.equal(swept.stale, 1, 'the sweep finds it');
  await world.runTask(task.task); // Cloud Tasks reruns the crashed task: already handled
  await world.drainTasks(); // the attempt the recovery scheduled
  const r3 = world.record('wh-a');
  assert.equal(r3.status, 'succeeded');
  assert.deepEqual(r3.attempts.map((attempt) => [attempt.target, attempt.outcome]), [['primary', 'retryable'], ['primary', 'failed'], ['backup', 'unknown'], ['backup', 'succeeded']]);
});
