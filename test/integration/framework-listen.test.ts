import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { freePort } from '../../functions/dev/emulators.ts';
import { untilServing } from '../../functions/dev/framework-listen.ts';

// The functions framework opens its port before its listen callback prints the banner; the local stack
// says "ready" once every function served, so a function counts as started only when both happened.
// A process that listens at once and prints the banner later plays the framework.
const children: ChildProcess[] = [];
after(() => children.forEach((child) => child.kill('SIGKILL')));

function lateBanner(port: number, bannerAfterMs: number) {
  const script = `require('node:http').createServer().listen(${port}, '127.0.0.1', () => setTimeout(() => console.log('URL: http://localhost:${port}/'), ${bannerAfterMs}))`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

describe('untilServing: a function has started when its port is open and the framework printed its banner', () => {
  it('waits for the banner that comes after the port opened', async () => {
    const port = await freePort();
    const fn = lateBanner(port, 700);
    const started = Date.now();
    await untilServing(fn.child, port, { target: 'late', output: fn.output, env: {}, timeoutMs: 10_000 });
    assert.match(fn.output(), new RegExp(`URL: http://localhost:${port}/`));
    assert.ok(Date.now() - started >= 600, 'it returned before the banner');
  });

  it('with NODE_ENV=production (no banner), the open port is enough', async () => {
    const port = await freePort();
    const fn = lateBanner(port, 60_000);
    await untilServing(fn.child, port, { target: 'quiet', output: fn.output, env: { NODE_ENV: 'production' }, timeoutMs: 10_000 });
    assert.equal(fn.output(), '');
  });

  it('a banner that never comes is a start that failed, with the output', async () => {
    const port = await freePort();
    const fn = lateBanner(port, 60_000);
    await assert.rejects(untilServing(fn.child, port, { target: 'silent', output: fn.output, env: {}, timeoutMs: 500 }), /silent did not listen on \d+ within 500 ms/);
  });

  it('a process that exits before listening is reported with its exit code', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['-e', 'console.log("boom"); process.exit(3)'], { stdio: ['ignore', 'pipe', 'inherit'] });
    children.push(child);
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await assert.rejects(untilServing(child, port, { target: 'crash', output: () => output, env: {}, timeoutMs: 10_000 }), /crash exited \(3\) before listening/);
  });
});
