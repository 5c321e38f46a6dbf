/**
 * Preloaded into a function process (NODE_OPTIONS=--import) by tests that must see every DNS query
 * the bundle makes: each name looked up is appended to DNS_SPY_LOG and answered with 127.0.0.1 (the
 * test's receiver), so a name that should never be looked up would, if it were, be delivered.
 */
import dns from 'node:dns';
import { appendFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { isIP } from 'node:net';

const log = process.env.DNS_SPY_LOG;
const original = dns.lookup;

type Callback = (error: Error | null, address: unknown, family?: number) => void;

dns.lookup = ((hostname: string, options: unknown, callback?: Callback) => {
  const done = (typeof options === 'function' ? options : callback) as Callback;
  const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all === true;
  if (isIP(hostname)) return (original as (...args: unknown[]) => void)(hostname, options, callback);
  if (log) appendFileSync(log, `${hostname}\n`);
  process.nextTick(() => (all ? done(null, [{ address: '127.0.0.1', family: 4 }]) : done(null, '127.0.0.1', 4)));
}) as typeof dns.lookup;
// ESM imports of node:dns (the bundle's) see the replacement too.
syncBuiltinESMExports();
