import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import type { OutgoingRequest } from '../../functions/src/render/build-request.ts';
import { GotHttpSender, IDLE_SOCKET_MS } from '../../functions/src/send/got-http-sender.ts';

// The sender keeps connections alive across deliveries. A receiver closes idle connections on its own
// clock, and a delivery written on a connection at the moment the receiver closes it is reset
// (ECONNRESET). So the sender must close idle connections itself, first.

const request = (url: string, timeoutMs = 5000): OutgoingRequest => ({ method: 'POST', url, headers: { 'content-type': 'text/plain' }, body: 'x', timeoutMs, secretValues: [], secretHeaders: [] });

interface Watched {
  url: string;
  server: Server;
  /** Per connection, who ended it: 'sender' (its FIN came first) or 'receiver' (its idle timer fired first). */
  closedBy: Array<Promise<'sender' | 'receiver'>>;
  requestsPerConnection: number[];
}

const servers: Server[] = [];
after(() => Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve)))));

async function watchedReceiver(keepAliveTimeoutMs: number, answerAfterMs = 0): Promise<Watched> {
  const closedBy: Watched['closedBy'] = [];
  const requestsPerConnection: number[] = [];
  const connections = new Map<Socket, number>();
  const server = createServer((req, res) => {
    const index = connections.get(req.socket)!;
    requestsPerConnection[index] = (requestsPerConnection[index] ?? 0) + 1;
    req.resume();
    req.on('end', () => setTimeout(() => res.end('ok'), answerAfterMs));
  });
  // 0: no idle timeout at all, and so no Keep-Alive hint in the answers.
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.on('connection', (socket: Socket) => {
    connections.set(socket, connections.size);
    // The server's keep-alive timer is the socket's timeout: 'timeout' is the receiver closing.
    closedBy.push(new Promise((resolve) => {
      socket.once('end', () => resolve('sender'));
      socket.once('timeout', () => resolve('receiver'));
    }));
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}/`, server, closedBy, requestsPerConnection };
}

describe('keep-alive connections to receivers', () => {
  it('reuses a connection between deliveries that follow each other', async () => {
    const receiver = await watchedReceiver(5000);
    const sender = new GotHttpSender({ allowLoopback: true });
    for (let i = 0; i < 3; i++) assert.equal((await sender.send(request(receiver.url))).kind, 'response');
    assert.deepEqual(receiver.requestsPerConnection, [3]);
  });

  it('closes an idle connection before the receiver does, 1 s before its Keep-Alive: timeout', async () => {
    // Node's server announces "Keep-Alive: timeout=2" and closes after 2 s (or later); the production
    // sender, with its default idle limit, closes at 1 s.
    const receiver = await watchedReceiver(2000);
    const sender = new GotHttpSender({ allowLoopback: true });
    assert.equal((await sender.send(request(receiver.url))).kind, 'response');
    assert.equal(await receiver.closedBy[0], 'sender');
    assert.equal((await sender.send(request(receiver.url))).kind, 'response');
    assert.deepEqual(receiver.requestsPerConnection, [1, 1], 'the next delivery opens a new connection');
  });

  it('closes an idle connection after 4 s when the receiver announces no timeout', async () => {
    // The production sender (IDLE_SOCKET_MS): this test takes those 4 s.
    const receiver = await watchedReceiver(0);
    const sender = new GotHttpSender({ allowLoopback: true });
    assert.equal((await sender.send(request(receiver.url))).kind, 'response');
    const sent = Date.now();
    const closed = await Promise.race([receiver.closedBy[0], new Promise((resolve) => setTimeout(resolve, 10_000, 'still open after 10 s'))]);
    assert.equal(closed, 'sender');
    // Only a lower bound: a busy machine may close later, never sooner.
    assert.ok(Date.now() - sent >= IDLE_SOCKET_MS - 100, `closed after ${Date.now() - sent} ms, before the idle limit`);
  });

  it('does not cut off a receiver that answers slower than the idle limit, on a new or a reused connection', async () => {
    const receiver = await watchedReceiver(5000, 700);
    const sender = new GotHttpSender({ allowLoopback: true, idleSocketMs: 200 });
    for (let i = 0; i < 2; i++) {
      const sent = await sender.send(request(receiver.url));
      assert.ok(sent.kind === 'response', JSON.stringify(sent));
      assert.equal(sent.status, 200);
    }
    // The second request went out within 200 ms of the first answer: on the same connection.
    assert.deepEqual(receiver.requestsPerConnection, [2]);
  });
});
