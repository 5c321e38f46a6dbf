/**
 * The loopback receiver of the throughput and memory sections, in its own process so that its CPU is
 * never charged to the client being measured. Answers every request with a small JSON body once the
 * request body has been read; `/slow/<ms>/...` holds the answer that long; `/hold/...` holds it until
 * `GET /__release`. Prints its port as one JSON line on stdout. `GET /__stats` reports how many requests
 * are open now and at most.
 *
 * Run as a child: `node bench/lib/receiver.ts`; the parent uses `startReceiverProcess()`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';

const ANSWER = Buffer.from('{"id":"rec_bench","createdTime":"2026-11-23T00:00:00.000Z"}');

function serve(): void {
  let open = 0;
  let maxOpen = 0;
  let total = 0;
  let held: Array<() => void> | undefined = [];
  const server = createServer((req, res) => {
    if (req.url === '/__stats') {
      res.end(JSON.stringify({ open, maxOpen, total }));
      return;
    }
    if (req.url === '/__release') {
      const waiting = held ?? [];
      held = undefined;
      for (const answer of waiting) answer();
      res.end('{}');
      return;
    }
    if (req.url === '/__reset') {
      maxOpen = open;
      total = 0;
      res.end('{}');
      return;
    }
    open++;
    total++;
    if (open > maxOpen) maxOpen = open;
    const slow = /^\/slow\/(\d+)\//.exec(req.url ?? '');
    req.on('data', () => {});
    req.on('end', () => {
      const answer = () => {
        open--;
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': ANSWER.length });
        res.end(ANSWER);
      };
      if (slow) setTimeout(answer, Number(slow[1]));
      else if (held && req.url?.startsWith('/hold/')) held.push(answer);
      else answer();
    });
  });
  server.keepAliveTimeout = 120_000;
  server.headersTimeout = 130_000;
  server.requestTimeout = 0;
  server.maxRequestsPerSocket = 0;
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address() as { port: number };
    process.stdout.write(`${JSON.stringify({ port })}\n`);
  });
  process.on('SIGTERM', () => process.exit(0));
  process.on('disconnect', () => process.exit(0));
}

export interface ReceiverProcess {
  url: string;
  stats(): Promise<{ open: number; maxOpen: number; total: number }>;
  reset(): Promise<void>;
  /** Answers every request held by `/hold/...`, and the later ones at once. */
  release(): Promise<void>;
  stop(): void;
}

/** Starts the receiver in a child process and resolves once it listens. */
export function startReceiverProcess(): Promise<ReceiverProcess> {
  const child: ChildProcess = spawn(process.execPath, [fileURLToPath(import.meta.url)], { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the receiver exited with code ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const line = buffered.split('\n')[0];
      if (!buffered.includes('\n') || !line) return;
      const { port } = JSON.parse(line) as { port: number };
      const url = `http://127.0.0.1:${port}`;
      const get = async (path: string) => (await fetch(`${url}${path}`)).json();
      resolve({
        url,
        stats: () => get('/__stats') as Promise<{ open: number; maxOpen: number; total: number }>,
        reset: async () => void (await get('/__reset')),
        release: async () => void (await get('/__release')),
        stop: () => void child.kill('SIGTERM'),
      });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) serve();
