/**
 * What the push-latency and fan-out sections share: a receiver in the bench process that notes when
 * each request's head arrives (keyed by the X-Hookshape-Event header the demo webhook sends), and the
 * built dispatch function run under the functions framework with its secrets file, optionally through
 * the counting Firestore proxy.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEMO_ACCOUNT, DEMO_SECRETS } from './fixtures.ts';
import { functionEnv, startFunction, type FunctionProcess } from './function-process.ts';

export interface ArrivalReceiver {
  url: string;
  /** Resolves with performance.now() when `count` requests for this event have arrived (their heads). */
  expect(eventId: string, count?: number): Promise<number>;
  /** Requests seen so far. */
  total(): number;
  close(): Promise<void>;
}

export async function startArrivalReceiver(): Promise<ArrivalReceiver> {
  const waiting = new Map<string, { left: number; resolve: (at: number) => void }>();
  let total = 0;
  const server: Server = createServer((req, res) => {
    const at = performance.now();
    total++;
    const id = String(req.headers['x-hookshape-event'] ?? '');
    const entry = waiting.get(id);
    if (entry && --entry.left === 0) {
      waiting.delete(id);
      entry.resolve(at);
    }
    req.resume();
    req.on('end', () => res.end('{"id":"rec_bench"}'));
  });
  server.keepAliveTimeout = 120_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    expect: (eventId, count = 1) => new Promise((resolve) => waiting.set(eventId, { left: count, resolve })),
    total: () => total,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

/** A directory with the demo account's secrets file, removed by `remove()`. */
export function secretsDir(accounts: string[] = [DEMO_ACCOUNT]): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'hookshape-bench-secrets-'));
  const file = join(dir, 'secrets.json');
  writeFileSync(file, JSON.stringify(Object.fromEntries(accounts.map((account) => [account, DEMO_SECRETS]))));
  return { file, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts a function directory against `firestoreHost` and waits until it listens. */
export async function startListening(source: string, projectId: string, firestoreHost: string, extra: NodeJS.ProcessEnv = {}): Promise<FunctionProcess> {
  const fn = await startFunction(source, functionEnv(projectId, { FIRESTORE_EMULATOR_HOST: firestoreHost, ...extra }));
  await fn.waitForPort();
  return fn;
}

/** The value at quantile q (0..1) of the samples, nearest rank. */
export function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}
