/**
 * Preloaded (--import) into one extra cold-start run: records every module the process resolves and
 * writes the list when the first request (the event) arrives and again when its response is sent (the
 * delivery done). Resolution hooks slow loading down, so the timed runs never use it.
 * Output: `${BENCH_TRACE_OUT}.before.json` and `${BENCH_TRACE_OUT}.after.json`, arrays of URLs.
 */
import { subscribe } from 'node:diagnostics_channel';
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const seen = new Set<string>();
registerHooks({
  resolve(specifier, context, nextResolve) {
    const resolved = nextResolve(specifier, context);
    seen.add(resolved.url);
    return resolved;
  },
});

const out = process.env.BENCH_TRACE_OUT;
let stage = 0;
subscribe('http.server.request.start', () => {
  if (out && stage === 0) writeFileSync(`${out}.before.json`, JSON.stringify([...seen]));
  stage = Math.max(stage, 1);
});
subscribe('http.server.response.finish', () => {
  if (out && stage === 1) writeFileSync(`${out}.after.json`, JSON.stringify([...seen]));
  stage = 2;
});
