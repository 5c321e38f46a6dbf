/**
 * A port for a process that listens later (an emulator, a function whose URL goes into another's
 * environment). Dev tooling, not deployed.
 *
 * Asking the kernel for one (listen on 0, close) races: between the close and the child's bind, the
 * same port can go to an outgoing connection's local end or to another test process's listen(0), both
 * taken from the kernel's ephemeral range, and the child dies with EADDRINUSE (seen in `npm test`). So
 * the port is taken below that range, where the kernel hands out none, and claimed with a file under
 * the temporary directory so that two processes of this machine never pick the same one.
 */
import { linkSync, mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomInt, randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Where the kernel's ephemeral range starts (Linux's ip_local_port_range), else the IANA one. */
function ephemeralStart(): number {
  try {
    const start = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(start) && start > 0 ? start : 49152;
  } catch {
    return 49152;
  }
}

const LOWEST = 20000;
const CLAIMS = join(tmpdir(), 'hookshape-ports');
const mine = new Set<string>();

/** True when nothing on this machine listens on `port` (all interfaces, as the functions framework binds). */
function bindable(port: number, host: string): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    // No IPv6 here: the IPv4 check stands for it.
    server.once('error', (error: NodeJS.ErrnoException) => resolve(host === '::' && error.code !== 'EADDRINUSE' && error.code !== 'EACCES'));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Claims `port` for this process (until it exits): false when a live process of this machine holds it.
 * A claim file appears whole (written aside, then hard-linked into place: never seen empty), and a dead
 * process's claim is moved aside before it is replaced, so two processes never both take it over.
 */
export function claimPort(port: number): boolean {
  const file = join(CLAIMS, String(port));
  const mineAside = join(CLAIMS, `.${process.pid}-${randomUUID()}`);
  writeFileSync(mineAside, String(process.pid));
  try {
    for (let round = 0; round < 3; round += 1) {
      try {
        linkSync(mineAside, file);
        mine.add(file);
        return true;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const holder = pidIn(file);
      if (holder === undefined) continue; // gone meanwhile: try again
      if (holder > 0 && alive(holder)) return false; // 0: not a pid (a file left half-written by an older version)
      const dead = join(CLAIMS, `.dead-${randomUUID()}`);
      try {
        renameSync(file, dead);
      } catch {
        continue; // another process moved it first
      }
      // What was moved may be a live claim made since the read: put it back, and leave the port to it.
      if (pidIn(dead) !== holder) {
        try {
          linkSync(dead, file);
        } catch {
          // A third process claimed it meanwhile: that claim stands.
        }
        unlinkSync(dead);
        return false;
      }
      unlinkSync(dead);
    }
    return false;
  } finally {
    unlinkSync(mineAside);
  }
}

const pidIn = (file: string): number | undefined => {
  try {
    const pid = Number(readFileSync(file, 'utf8'));
    return Number.isInteger(pid) && pid > 0 ? pid : 0;
  } catch {
    return undefined;
  }
};

process.once('exit', () => {
  for (const file of mine) {
    try {
      unlinkSync(file);
    } catch {
      // Already gone.
    }
  }
});

/** The kernel's own pick (the old way), when no port below the ephemeral range is free. */
function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export async function freePort(): Promise<number> {
  const highest = ephemeralStart();
  if (highest - LOWEST < 1000) return kernelPort();
  mkdirSync(CLAIMS, { recursive: true });
  for (let tries = 0; tries < 100; tries += 1) {
    const port = randomInt(LOWEST, highest);
    if (!claimPort(port)) continue;
    // Free on the IPv4 loopback (emulators) and on every interface (the functions framework's bind).
    if ((await bindable(port, '127.0.0.1')) && (await bindable(port, '::'))) return port;
  }
  return kernelPort();
}
