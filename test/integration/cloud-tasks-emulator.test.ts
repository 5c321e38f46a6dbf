// Tests the local Cloud Tasks emulator (dev/test tooling) with the real @google-cloud/tasks
// client over gRPC and a real loopback HTTP receiver — no mocks.

process.env.METADATA_SERVER_DETECTION = 'none'; // keep Google clients from probing a metadata server

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { CloudTasksClient } from '@google-cloud/tasks';
import { startCloudTasksEmulator, type CloudTasksEmulator } from '../../functions/dev/cloud-tasks-emulator/cloud-tasks-emulator.ts';
import { freePort } from '../../functions/dev/free-port.ts';
import { GrpcStatus } from '../support/kit.ts';

interface Received {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A loopback HTTP server that records requests and answers with scripted statuses per path (default 200). */
async function startReceiver() {
  const received: Received[] = [];
  const scripts = new Map<string, number[]>();
  const waiters: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = req.url ?? '';
      received.push({ method: req.method ?? '', path, headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now() });
      res.statusCode = scripts.get(path)?.shift() ?? 200;
      res.end();
      for (const wake of waiters.splice(0)) wake();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    received,
    script: (path: string, statuses: number[]) => scripts.set(path, statuses),
    requestsTo: (path: string) => received.filter((r) => r.path === path),
    /** Resolves once `path` has received `count` requests. */
    async waitFor(path: string, count = 1, timeoutMs = 5000): Promise<Received[]> {
      const deadline = Date.now() + timeoutMs;
      while (received.filter((r) => r.path === path).length < count) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} request(s) to ${path}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 50);
        });
      }
      return received.filter((r) => r.path === path);
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function clientFor(emulator: CloudTasksEmulator): CloudTasksClient {
  return new CloudTasksClient({ apiEndpoint: emulator.host, port: emulator.port, sslCreds: grpc.credentials.createInsecure() });
}

/** Awaits a call expected to fail, returning its gRPC status code. */
async function grpcCode(call: Promise<unknown>): Promise<number> {
  try {
    await call;
  } catch (error) {
    return (error as { code: number }).code;
  }
  assert.fail('expected the call to fail');
}

/** Resolves with the emulator's records for `taskName` once there are `count` of them. */
async function waitForDispatches(emulator: CloudTasksEmulator, taskName: string, count = 1, timeoutMs = 5000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = emulator.dispatched.filter((d) => d.taskName === taskName);
    if (records.length >= count) return records;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} dispatch(es) of ${taskName}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const inSeconds = (seconds: number) => ({ seconds: Math.floor(Date.now() / 1000 + seconds), nanos: Math.floor(((Date.now() / 1000 + seconds) % 1) * 1e9) });
const timestampMs = (t: { seconds?: unknown; nanos?: number | null } | null | undefined) => Number(t?.seconds ?? 0) * 1000 + (t?.nanos ?? 0) / 1e6;

const PARENT = 'projects/test-project/locations/europe-west1';
const QUEUE = `${PARENT}/queues/webhooks`;
const RETRY_QUEUE_CONFIG = { minBackoff: { seconds: 0, nanos: 100_000_000 }, maxBackoff: { seconds: 1 }, maxAttempts: 5 };

describe('Cloud Tasks emulator', () => {
  let emulator: CloudTasksEmulator;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let client: CloudTasksClient;

  before(async () => {
    emulator = await startCloudTasksEmulator();
    receiver = await startReceiver();
    client = clientFor(emulator);
    await client.createQueue({ parent: PARENT, queue: { name: QUEUE, retryConfig: RETRY_QUEUE_CONFIG } });
  });
  after(async () => {
    await client.close();
    await emulator.stop();
    await receiver.close();
  });

  test('queues: create, get, list, duplicate, malformed, purge, delete', async () => {
    const [queue] = await client.getQueue({ name: QUEUE });
    assert.equal(queue.name, QUEUE);
    assert.equal(queue.state, 'RUNNING');
    assert.equal(queue.retryConfig?.maxAttempts, 5);
    assert.equal(queue.retryConfig?.maxDoublings, 16); // unspecified → documented default

    assert.equal(await grpcCode(client.createQueue({ parent: PARENT, queue: { name: QUEUE } })), GrpcStatus.ALREADY_EXISTS);
    assert.equal(await grpcCode(client.getQueue({ name: 'queues/nope' })), GrpcStatus.INVALID_ARGUMENT);
    assert.equal(await grpcCode(client.getQueue({ name: `${PARENT}/queues/missing` })), GrpcStatus.NOT_FOUND);

    const other = `${PARENT}/queues/scratch`;
    await client.createQueue({ parent: PARENT, queue: { name: other } });
    const [queues] = await client.listQueues({ parent: PARENT });
    assert.deepEqual(queues.map((q) => q.name).sort(), [other, QUEUE].sort());
    await client.createTask({ parent: other, task: { httpRequest: { url: `${receiver.base}/purged` }, scheduleTime: inSeconds(60) } });
    const [purged] = await client.purgeQueue({ name: other });
    assert.ok(purged.purgeTime);
    assert.deepEqual((await client.listTasks({ parent: other }))[0], []);
    await client.deleteQueue({ name: other });
    assert.equal(await grpcCode(client.getQueue({ name: other })), GrpcStatus.NOT_FOUND);
  });

  test('dispatches a named task at its schedule time with its request and the X-CloudTasks-* headers', async () => {
    const name = `${QUEUE}/tasks/first-task`;
    const scheduleTime = inSeconds(0.3);
    const [created] = await client.createTask({
      parent: QUEUE,
      task: {
        name,
        scheduleTime,
        httpRequest: {
          url: `${receiver.base}/hook?x=1`,
          httpMethod: 'PUT',
          headers: { 'Content-Type': 'application/json', 'X-Custom': 'yes', 'User-Agent': 'ignored' },
          body: Buffer.from('{"hello":"world"}'),
        },
      },
    });
    assert.equal(created.name, name);
    assert.equal(created.view, 'BASIC');
    assert.equal(created.httpRequest?.body?.length ?? 0, 0, 'the body is only returned in the FULL view');
    assert.equal(timestampMs(created.scheduleTime), timestampMs({ seconds: scheduleTime.seconds, nanos: scheduleTime.nanos - (scheduleTime.nanos % 1000) }));

    const [request] = await receiver.waitFor('/hook?x=1');
    assert.ok(request);
    assert.ok(request.at >= timestampMs(scheduleTime) - 2, 'not dispatched before its schedule time');
    assert.equal(request.method, 'PUT');
    assert.equal(request.body, '{"hello":"world"}');
    assert.equal(request.headers['content-type'], 'application/json');
    assert.equal(request.headers['x-custom'], 'yes');
    assert.equal(request.headers['user-agent'], 'Google-Cloud-Tasks');
    assert.equal(request.headers['x-cloudtasks-queuename'], 'webhooks');
    assert.equal(request.headers['x-cloudtasks-taskname'], 'first-task');
    assert.equal(request.headers['x-cloudtasks-taskretrycount'], '0');
    assert.equal(request.headers['x-cloudtasks-taskexecutioncount'], '0');
    assert.equal(request.headers['x-cloudtasks-taskpreviousresponse'], undefined);
    assert.equal(request.headers['authorization'], undefined);
    assert.ok(Math.abs(Number(request.headers['x-cloudtasks-tasketa']) * 1000 - timestampMs(scheduleTime)) < 1);

    // Completed tasks disappear, and their name stays taken for a while.
    await waitForDispatches(emulator, name);
    assert.equal(await grpcCode(client.getTask({ name })), GrpcStatus.NOT_FOUND);
    const again = client.createTask({ parent: QUEUE, task: { name, httpRequest: { url: `${receiver.base}/hook?x=1` } } });
    assert.equal(await grpcCode(again), GrpcStatus.ALREADY_EXISTS);
  });

  test('a task name is refused while the task exists and after it was deleted', async () => {
    const name = `${QUEUE}/tasks/dedup-1`;
    const task = { name, scheduleTime: inSeconds(60), httpRequest: { url: `${receiver.base}/dedup` } };
    await client.createTask({ parent: QUEUE, task });
    assert.equal(await grpcCode(client.createTask({ parent: QUEUE, task })), GrpcStatus.ALREADY_EXISTS);
    await client.deleteTask({ name });
    assert.equal(await grpcCode(client.createTask({ parent: QUEUE, task })), GrpcStatus.ALREADY_EXISTS);
    assert.equal(await grpcCode(client.deleteTask({ name })), GrpcStatus.NOT_FOUND);
  });

  test('GetTask, ListTasks, DeleteTask and RunTask', async () => {
    const body = Buffer.from('payload');
    const [later] = await client.createTask({
      parent: QUEUE,
      task: { scheduleTime: inSeconds(60), httpRequest: { url: `${receiver.base}/run`, body } },
    });
    assert.match(later.name ?? '', new RegExp(`^${QUEUE}/tasks/[A-Za-z0-9_-]+$`), 'a name is generated');
    // A few seconds ahead: on a loaded machine the RPCs below must all run before these are due.
    const [deleted] = await client.createTask({ parent: QUEUE, task: { scheduleTime: inSeconds(3), httpRequest: { url: `${receiver.base}/deleted` } } });
    const [kept] = await client.createTask({ parent: QUEUE, task: { scheduleTime: inSeconds(3.5), httpRequest: { url: `${receiver.base}/kept` } } });

    const [basic] = await client.getTask({ name: later.name });
    assert.equal(basic.httpRequest?.body?.length ?? 0, 0);
    assert.equal(basic.httpRequest?.url, `${receiver.base}/run`);
    assert.equal(basic.httpRequest?.httpMethod, 'POST');
    assert.equal(Number(basic.dispatchDeadline?.seconds), 600);
    assert.ok(basic.createTime);
    const [full] = await client.getTask({ name: later.name, responseView: 'FULL' });
    assert.equal(full.view, 'FULL');
    assert.equal(Buffer.from(full.httpRequest?.body ?? []).toString(), 'payload');

    const [listed] = await client.listTasks({ parent: QUEUE });
    assert.deepEqual(listed.map((t) => t.name), [deleted.name, kept.name, later.name], 'in schedule order');

    await client.deleteTask({ name: deleted.name });
    await receiver.waitFor('/kept', 1, 10_000); // scheduled after the deleted one
    assert.equal(receiver.requestsTo('/deleted').length, 0, 'a deleted task is never dispatched');

    const [run] = await client.runTask({ name: later.name });
    assert.equal(run.dispatchCount, 1);
    assert.ok(run.lastAttempt?.dispatchTime);
    const [request] = await receiver.waitFor('/run');
    assert.equal(request?.body, 'payload');
    await waitForDispatches(emulator, later.name ?? '');
    assert.equal(await grpcCode(client.getTask({ name: later.name })), GrpcStatus.NOT_FOUND);
  });

  test('CreateTask errors: missing queue, malformed names, bad requests', async () => {
    const httpRequest = { url: `${receiver.base}/never` };
    assert.equal(await grpcCode(client.createTask({ parent: `${PARENT}/queues/missing`, task: { httpRequest } })), GrpcStatus.NOT_FOUND);
    for (const name of [`${QUEUE}/tasks/has space`, `${QUEUE}/tasks/`, `${PARENT}/queues/other/tasks/x`, 'tasks/x', `${QUEUE}/tasks/${'a'.repeat(501)}`]) {
      assert.equal(await grpcCode(client.createTask({ parent: QUEUE, task: { name, httpRequest } })), GrpcStatus.INVALID_ARGUMENT, name);
    }
    assert.equal(await grpcCode(client.createTask({ parent: QUEUE, task: { httpRequest: { url: 'ftp://x' } } })), GrpcStatus.INVALID_ARGUMENT);
    const getWithBody = { ...httpRequest, httpMethod: 'GET' as const, body: Buffer.from('x') };
    assert.equal(await grpcCode(client.createTask({ parent: QUEUE, task: { httpRequest: getWithBody } })), GrpcStatus.INVALID_ARGUMENT);
    assert.equal(await grpcCode(client.getTask({ name: `${QUEUE}/tasks/absent` })), GrpcStatus.NOT_FOUND);
  });

  test('failed attempts are retried with backoff and the retry headers', async () => {
    receiver.script('/flaky', [500, 404, 200]);
    const [task] = await client.createTask({ parent: QUEUE, task: { httpRequest: { url: `${receiver.base}/flaky` } } });
    const requests = await receiver.waitFor('/flaky', 3);
    assert.deepEqual(requests.map((r) => r.headers['x-cloudtasks-taskretrycount']), ['0', '1', '2']);
    // 5xx responses do not count as executions.
    assert.deepEqual(requests.map((r) => r.headers['x-cloudtasks-taskexecutioncount']), ['0', '0', '1']);
    assert.deepEqual(requests.map((r) => r.headers['x-cloudtasks-taskpreviousresponse']), [undefined, '500', '404']);
    assert.ok(requests[1]!.at - requests[0]!.at >= 90, 'waits at least minBackoff before retrying');

    const records = await waitForDispatches(emulator, task.name ?? '', 3);
    assert.deepEqual(records.map((d) => [d.retryCount, d.status]), [[0, 500], [1, 404], [2, 200]]);
  });

  test('a retrying task reports its attempts, and is deleted after maxAttempts', async () => {
    const queue = `${PARENT}/queues/two-attempts`;
    const retryConfig = { minBackoff: { seconds: 0, nanos: 500_000_000 }, maxBackoff: { seconds: 1 }, maxAttempts: 2 };
    await client.createQueue({ parent: PARENT, queue: { name: queue, retryConfig } });
    receiver.script('/down', [503, 503, 503]);
    const [task] = await client.createTask({ parent: queue, task: { httpRequest: { url: `${receiver.base}/down` } } });
    const name = task.name ?? '';

    await waitForDispatches(emulator, name, 1);
    const [afterFirst] = await client.getTask({ name });
    assert.equal(afterFirst.dispatchCount, 1);
    assert.equal(afterFirst.responseCount, 1);
    assert.equal(afterFirst.lastAttempt?.responseStatus?.code, GrpcStatus.UNAVAILABLE); // HTTP 503
    assert.ok(afterFirst.firstAttempt?.dispatchTime);
    assert.ok(timestampMs(afterFirst.scheduleTime) > timestampMs(afterFirst.lastAttempt?.dispatchTime), 'rescheduled later');

    await waitForDispatches(emulator, name, 2);
    assert.equal(await grpcCode(client.getTask({ name })), GrpcStatus.NOT_FOUND, 'deleted after maxAttempts');
    assert.equal(receiver.requestsTo('/down').length, 2);
  });

  test('rate limits: dispatches follow a token bucket (max_burst_size picked from the rate), retries included', async () => {
    const queue = `${PARENT}/queues/rated`;
    const [created] = await client.createQueue({ parent: PARENT, queue: { name: queue, rateLimits: { maxDispatchesPerSecond: 10, maxBurstSize: 400 }, retryConfig: RETRY_QUEUE_CONFIG } });
    assert.equal(created.rateLimits?.maxDispatchesPerSecond, 10);
    assert.equal(created.rateLimits?.maxBurstSize, 2, 'max_burst_size is output only: picked from the rate, the given 400 ignored');
    assert.equal(created.rateLimits?.maxConcurrentDispatches, 1000, 'unset: the default');
    receiver.script('/rated', [503, 503]); // two retries, which spend tokens like first attempts
    for (let index = 0; index < 20; index += 1) {
      await client.createTask({ parent: queue, task: { httpRequest: { url: `${receiver.base}/rated` } } });
    }
    const requests = await receiver.waitFor('/rated', 22, 10_000);
    const times = requests.map((request) => request.at).sort((a, b) => a - b);
    // A bucket of 2 refilled at 10/s: at most 2 + 10 dispatches in any second, 22 take >= 2 s.
    for (const [index, start] of times.entries()) {
      const inWindow = times.slice(index).filter((at) => at < start + 1000).length;
      assert.ok(inWindow <= 12, `${inWindow} dispatches within 1 s from ${start - times[0]!} ms (limit 10/s, burst 2)`);
    }
    assert.ok(times.at(-1)! - times[0]! >= 1800, `22 dispatches at 10/s after a burst of 2 took ${times.at(-1)! - times[0]!} ms`);
  });

  test('UpdateQueue: changes only the update_mask paths, refuses unknown ones and bad values, creates a missing queue', async () => {
    const queue = `${PARENT}/queues/updated`;
    await client.createQueue({ parent: PARENT, queue: { name: queue, rateLimits: { maxDispatchesPerSecond: 4, maxConcurrentDispatches: 7 }, retryConfig: RETRY_QUEUE_CONFIG } });
    const [updated] = await client.updateQueue({ queue: { name: queue, rateLimits: { maxDispatchesPerSecond: 50, maxConcurrentDispatches: 1 } }, updateMask: { paths: ['rate_limits.max_dispatches_per_second'] } });
    assert.equal(updated.rateLimits?.maxDispatchesPerSecond, 50);
    assert.equal(updated.rateLimits?.maxBurstSize, 10, 'the burst follows the new rate');
    assert.equal(updated.rateLimits?.maxConcurrentDispatches, 7, 'not in the mask: unchanged');
    assert.equal(updated.retryConfig?.maxAttempts, 5, 'not in the mask: unchanged');
    const [both] = await client.updateQueue({ queue: { name: queue, rateLimits: { maxDispatchesPerSecond: 3, maxConcurrentDispatches: 2 } }, updateMask: { paths: ['rate_limits.max_dispatches_per_second', 'rate_limits.max_concurrent_dispatches'] } });
    assert.deepEqual([both.rateLimits?.maxDispatchesPerSecond, both.rateLimits?.maxConcurrentDispatches, both.rateLimits?.maxBurstSize], [3, 2, 1]);
    const [read] = await client.getQueue({ name: queue });
    assert.deepEqual([read.rateLimits?.maxDispatchesPerSecond, read.rateLimits?.maxConcurrentDispatches], [3, 2]);

    assert.equal(await grpcCode(client.updateQueue({ queue: { name: queue }, updateMask: { paths: ['rate_limits.max_speed'] } })), GrpcStatus.INVALID_ARGUMENT);
    assert.equal(await grpcCode(client.updateQueue({ queue: { name: queue, rateLimits: { maxDispatchesPerSecond: 501 } }, updateMask: { paths: ['rate_limits.max_dispatches_per_second'] } })), GrpcStatus.INVALID_ARGUMENT);
    assert.equal(await grpcCode(client.updateQueue({ queue: { name: queue, rateLimits: { maxConcurrentDispatches: 5001 } }, updateMask: { paths: ['rate_limits.max_concurrent_dispatches'] } })), GrpcStatus.INVALID_ARGUMENT);
    assert.equal(await grpcCode(client.updateQueue({ queue: { name: 'queues/nope' } })), GrpcStatus.INVALID_ARGUMENT);

    const missing = `${PARENT}/queues/made-by-update`;
    const [made] = await client.updateQueue({ queue: { name: missing, rateLimits: { maxDispatchesPerSecond: 2 } } });
    assert.equal(made.name, missing);
    assert.equal(made.state, 'RUNNING');
    assert.equal((await client.getQueue({ name: missing }))[0].rateLimits?.maxDispatchesPerSecond, 2);
  });

  test('max_concurrent_dispatches: never more attempts waiting on the target than the limit', async () => {
    let open = 0;
    let most = 0;
    let done = 0;
    const slow = http.createServer((req, res) => {
      open += 1;
      most = Math.max(most, open);
      req.resume();
      setTimeout(() => {
        open -= 1;
        done += 1;
        res.end();
      }, 150);
    });
    await new Promise<void>((resolve) => slow.listen(0, '127.0.0.1', resolve));
    try {
      const queue = `${PARENT}/queues/narrow`;
      await client.createQueue({ parent: PARENT, queue: { name: queue, rateLimits: { maxConcurrentDispatches: 3 } } });
      const url = `http://127.0.0.1:${(slow.address() as AddressInfo).port}/slow`;
      for (let index = 0; index < 12; index += 1) await client.createTask({ parent: queue, task: { httpRequest: { url } } });
      const deadline = Date.now() + 10_000;
      while (done < 12 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(done, 12);
      assert.equal(most, 3, `at most 3 at once, and the queue used all 3 (saw ${most})`);
    } finally {
      await new Promise<void>((resolve) => slow.close(() => resolve()));
    }
  });

  test('an oidcToken becomes an Authorization header with a decodable (unsigned) token', async () => {
    const email = 'invoker@test-project.iam.gserviceaccount.com';
    await client.createTask({
      parent: QUEUE,
      task: {
        httpRequest: {
          url: `${receiver.base}/oidc`,
          headers: { Authorization: 'Bearer replaced' },
          oidcToken: { serviceAccountEmail: email, audience: 'https://hooks.example.test' },
        },
      },
    });
    const [request] = await receiver.waitFor('/oidc');
    const match = /^Bearer ([\w-]+)\.([\w-]+)\.emulator$/.exec(request?.headers['authorization'] ?? '');
    assert.ok(match, `unexpected Authorization header ${request?.headers['authorization']}`);
    const claims = JSON.parse(Buffer.from(match[2]!, 'base64url').toString());
    assert.equal(claims.iss, 'https://accounts.google.com');
    assert.equal(claims.email, email);
    assert.equal(claims.aud, 'https://hooks.example.test');
    assert.ok(claims.exp > claims.iat);
  });
});

test('tasks survive an emulator restart on the same port and state; calls fail while it is down', async () => {
  const receiver = await startReceiver();
  // A claimed port: the restart binds it again, when the kernel could have given its own pick to another process.
  const first = await startCloudTasksEmulator({ port: await freePort() });
  const client = clientFor(first);
  let second: CloudTasksEmulator | undefined;
  let secondClient: CloudTasksClient | undefined;
  try {
    await client.createQueue({ parent: PARENT, queue: { name: QUEUE } });
    // Due once the emulator is down, even if creating it and stopping take a while on a loaded machine.
    const scheduleTime = inSeconds(3);
    const [task] = await client.createTask({ parent: QUEUE, task: { scheduleTime, httpRequest: { url: `${receiver.base}/survivor` } } });
    await first.stop();

    const whileDown = client.createTask({ parent: QUEUE, task: { httpRequest: { url: `${receiver.base}/lost` } } }, { timeout: 2000, retry: null });
    assert.equal(await grpcCode(whileDown), GrpcStatus.UNAVAILABLE);
    assert.equal(receiver.received.length, 0, 'nothing is dispatched while stopped');

    second = await startCloudTasksEmulator({ port: first.port, state: first.state });
    assert.equal(second.port, first.port);
    const [request] = await receiver.waitFor('/survivor', 1, 10_000);
    assert.ok(request!.at >= timestampMs(scheduleTime) - 2);
    assert.equal(request!.headers['x-cloudtasks-taskname'], task.name?.split('/').pop());

    secondClient = clientFor(second);
    const [queue] = await secondClient.getQueue({ name: QUEUE });
    assert.equal(queue.name, QUEUE);
  } finally {
    await client.close();
    await secondClient?.close();
    await first.stop();
    await second?.stop();
    await receiver.close();
  }
});
