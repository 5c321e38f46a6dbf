import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { claimPort, freePort } from '../../functions/dev/free-port.ts';

// Ports handed to processes that listen later. Taken from the kernel's ephemeral range, one could go
// to an outgoing connection or another test process meanwhile (EADDRINUSE in `npm test`'s local stack).
const ephemeralStart = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
const MODULE = JSON.stringify(new URL('../../functions/dev/free-port.ts', import.meta.url).href);

/** Another process of this machine that runs `body` (with freePort and claimPort), prints its result, and stays alive. */
async function otherProcess(body: string) {
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import { freePort, claimPort } from ${MODULE};\nconsole.log(JSON.stringify(await (async () => { ${body} })())); setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(child.stdout!, 'data')) as [Buffer];
  return { result: JSON.parse(line.toString()), kill: async () => {
    child.kill('SIGKILL');
    await once(child, 'exit');
  } };
}

describe('freePort', () => {
  it('hands out distinct ports below the ephemeral range, each free to listen on', async () => {
    const ports = await Promise.all(Array.from({ length: 40 }, () => freePort()));
    assert.equal(new Set(ports).size, ports.length, 'no port twice');
    for (const port of ports) {
      assert.ok(port >= 20000 && port < ephemeralStart, `${port} below ${ephemeralStart}`);
      const server = createServer();
      await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, () => resolve()));
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('never hands out a port that another live process of this machine was given (300 each: at random they would meet)', async () => {
    const other = await otherProcess('return Promise.all(Array.from({ length: 300 }, () => freePort()));');
    try {
      const theirs = new Set<number>(other.result);
      assert.equal(theirs.size, 300);
      const mine = await Promise.all(Array.from({ length: 300 }, () => freePort()));
      assert.deepEqual(mine.filter((port) => theirs.has(port)), []);
    } finally {
      await other.kill();
    }
    // Killed, it left its claims: taken over here, they go when this process ends.
    for (const port of other.result as number[]) assert.equal(claimPort(port), true);
  });

  it("a claim is held while its process lives, and taken over once it has died (killed, without its exit cleanup)", async () => {
    const other = await otherProcess('for (;;) { const port = 20000 + Math.floor(Math.random() * 10000); if (claimPort(port)) return port; }');
    const port: number = other.result;
    assert.equal(claimPort(port), false, 'held by a live process');
    await other.kill();
    assert.equal(claimPort(port), true, 'taken over from a dead one');
  });
});
