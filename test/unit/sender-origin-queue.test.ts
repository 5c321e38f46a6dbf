import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { after, describe, it } from 'node:test';
import type { OutgoingRequest } from '../../functions/src/render/build-request.ts';
import { GotHttpSender, OriginQueues } from '../../functions/src/send/got-http-sender.ts';

// The sender lets at most maxSockets requests per origin into got; the rest wait in its own queue (as
// the requests they are, not as got's request objects in the agent's queue), with the wait counted
// toward their timeout. Real receivers on 127.0.0.1 that hold their answers until told.

const request = (url: string, timeoutMs = 5000): OutgoingRequest => ({ method: 'POST', url, headers: { 'content-type': 'text/plain' }, body: 'x', timeoutMs, secretValues: [], secretHeaders: [] });

interface Holding {
  url: string;
  /** Requests whose head arrived, in order. */
  seen: string[];
  open: () => number;
  maxOpen: () => number;
  /** Answers the oldest held request (200). */
  answerOne: () => void;
  answerAll: () => void;
}

const servers: Server[] = [];
after(() => Promise.all(servers.map((server) => new Promise((resolve) => { server.closeAllConnections(); server.close(resolve); }))));

async function holdingReceiver(): Promise<Holding> {
  const held: Array<ServerResponse<IncomingMessage>> = [];
  const seen: string[] = [];
  let open = 0;
  let maxOpen = 0;
  const server = createServer((req, res) => {
    seen.push(String(req.headers['x-id'] ?? ''));
    open++;
    maxOpen = Math.max(maxOpen, open);
    res.on('finish', () => open--);
    res.on('close', () => void (res.writableFinished || open--));
    req.resume();
    req.on('end', () => held.push(res));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`,
    seen,
    open: () => open,
    maxOpen: () => maxOpen,
    answerOne: () => held.shift()?.end('ok'),
    answerAll: () => {
      while (held.length > 0) held.shift()!.end('ok');
    },
  };
}

const tagged = (url: string, id: string, timeoutMs?: number): OutgoingRequest => {
  const base = request(url, timeoutMs);
  return { ...base, headers: { ...base.headers, 'x-id': id } };
};

const until = async (what: string, check: () => boolean, timeoutMs = 5000) => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
};

/** A sender with one socket per origin, and a receiver holding the answer to its first request. */
async function oneSocketHeld() {
  const receiver = await holdingReceiver();
  const sender = new GotHttpSender({ allowLoopback: true, maxSockets: 1 });
  const held = sender.send(tagged(receiver.url, 'held'));
  await until('the held request', () => receiver.seen.length === 1);
  return { receiver, sender, held };
}

describe('at most maxSockets requests per origin in got; the others wait in the sender', () => {
  it('sends 2 of 5 at once to one receiver, each of the rest when one ends, in order (the agent would too; what the queue changes is below)', async () => {
    const receiver = await holdingReceiver();
    const sender = new GotHttpSender({ allowLoopback: true, maxSockets: 2 });
    const results = ['a', 'b', 'c', 'd', 'e'].map((id) => sender.send(tagged(receiver.url, id)));
    await until('two requests at the receiver', () => receiver.seen.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(receiver.seen, ['a', 'b'], 'the third waits while two are open');
    receiver.answerOne();
    await until('the third request', () => receiver.seen.length === 3);
    assert.equal(receiver.seen[2], 'c');
    await until('the rest', () => {
      receiver.answerAll();
      return receiver.seen.length === 5;
    });
    receiver.answerAll();
    const sent = await Promise.all(results);
    assert.deepEqual(sent.map((result) => (result.kind === 'response' ? result.status : result.code)), [200, 200, 200, 200, 200]);
    assert.equal(receiver.maxOpen(), 2);
    assert.deepEqual(receiver.seen, ['a', 'b', 'c', 'd', 'e']);
  });

  it('a full origin does not hold up another one', async () => {
    const busy = await holdingReceiver();
    const other = await holdingReceiver();
    const sender = new GotHttpSender({ allowLoopback: true, maxSockets: 1 });
    const held = sender.send(tagged(busy.url, 'held'));
    const waiting = sender.send(tagged(busy.url, 'waiting'));
    await until('the held request', () => busy.seen.length === 1);
    const elsewhere = sender.send(tagged(other.url, 'elsewhere'));
    await until('the other origin', () => other.seen.length === 1);
    other.answerAll();
    const result = await elsewhere;
    assert.equal(result.kind === 'response' && result.status, 200);
    assert.deepEqual(busy.seen, ['held'], 'the second request to the full origin still waits');
    busy.answerAll();
    await held;
    await until('the waiting request', () => busy.seen.length === 2);
    busy.answerAll();
    assert.equal((await waiting).kind, 'response');
  });

  it('a request whose timeout passes while it waits ends as a timeout and is never sent', async () => {
    const { receiver, sender, held } = await oneSocketHeld();
    const started = Date.now();
    const late = await sender.send(tagged(receiver.url, 'late', 300));
    const took = Date.now() - started;
    assert.equal(late.kind, 'error');
    assert.equal(late.kind === 'error' && late.code, 'ETIMEDOUT');
    assert.match(late.kind === 'error' ? late.message : '', /never sent/);
    assert.ok(took >= 290 && took < 2000, `ended after its 300 ms (${took} ms)`);
    assert.ok(late.durationMs >= 290, `its duration counts the wait (${late.durationMs} ms)`);
    receiver.answerAll();
    assert.equal((await held).kind, 'response');
    // The slot it waited for went to nobody: the next request is sent at once.
    const next = sender.send(tagged(receiver.url, 'next'));
    await until('the next request', () => receiver.seen.length === 2);
    receiver.answerAll();
    assert.equal((await next).kind, 'response');
    assert.deepEqual(receiver.seen, ['held', 'next']);
  });

  it('the time spent waiting counts toward the timeout once the request is sent', async () => {
    const { receiver, sender, held } = await oneSocketHeld();
    const started = Date.now();
    const second = sender.send(tagged(receiver.url, 'second', 600));
    await new Promise((resolve) => setTimeout(resolve, 400));
    receiver.answerOne(); // 'held' ends; 'second' goes out with about 200 ms left, and is held
    await until('the second request', () => receiver.seen.length === 2);
    const result = await second;
    const took = Date.now() - started;
    assert.equal(result.kind === 'error' && result.code, 'ETIMEDOUT', JSON.stringify(result));
    assert.ok(took >= 580 && took < 1500, `timed out about 600 ms after it was handed over, wait included (${took} ms)`);
    receiver.answerAll();
    await held;
  });
});

// The queue itself, without got: what the tests above cannot tell from an agent's own queue.
describe('OriginQueues: slots per origin, handed to the oldest waiter, nothing left behind', () => {
  const A = 'https://a.example';
  const B = 'https://b.example';

  it('past the limit a request waits; a release hands its slot to the oldest waiter, in order', async () => {
    const queues = new OriginQueues(2);
    assert.deepEqual([await queues.acquire(A, 1000), await queues.acquire(A, 1000)], [0, 0]);
    const order: string[] = [];
    const third = queues.acquire(A, 5000).then((waited) => order.push(`third ${waited! > 0}`));
    const fourth = queues.acquire(A, 5000).then((waited) => order.push(`fourth ${waited! > 0}`));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.deepEqual(order, [], 'both wait while two are in');
    queues.release(A);
    await third;
    assert.deepEqual(order, ['third true'], 'one release, one waiter: the oldest');
    queues.release(A);
    await fourth;
    assert.deepEqual(order, ['third true', 'fourth true']);
    queues.release(A);
    queues.release(A);
    assert.equal(queues.size, 0, 'no entry left once all are released');
  });

  it('a waiter whose time runs out takes no slot and is never handed one', async () => {
    const queues = new OriginQueues(1);
    assert.equal(await queues.acquire(A, 1000), 0);
    assert.equal(await queues.acquire(A, 30), undefined);
    queues.release(A); // no waiter left: the slot is freed, not given to the one that gave up
    assert.equal(queues.size, 0);
    assert.equal(await queues.acquire(A, 1000), 0, 'the next request goes in at once');
    queues.release(A);
  });

  it('a full origin does not hold up another', async () => {
    const queues = new OriginQueues(1);
    assert.equal(await queues.acquire(A, 1000), 0);
    assert.equal(await queues.acquire(B, 1000), 0);
    assert.equal(queues.size, 2);
    queues.release(A);
    queues.release(B);
    assert.equal(queues.size, 0);
  });
});
