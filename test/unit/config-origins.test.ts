/**
 * PORTAL_FRAME_ANCESTORS becomes the portal's CSP frame-ancestors and the origins its postMessage
 * protocol accepts; API_CORS_ORIGINS the origins CORS answers. Both take exact origins only: a
 * scheme alone (`https:` lets every https page frame the portal), a keyword, a path, a bare host or a
 * `;` (another CSP directive) stops the function with the reason.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { portalSecurityHeaders } from '../../functions/src/api/portal-static.ts';
import { ConfigError, loadConfig } from '../../functions/src/config/runtime-config.ts';

const good = [
  { name: 'one origin', input: 'https://app.example.com', expected: ['https://app.example.com'] },
  { name: 'two, with spaces and a trailing /', input: ' https://app.example.com/ , http://127.0.0.1:8080', expected: ['https://app.example.com', 'http://127.0.0.1:8080'] },
  { name: 'upper case and a default port, as browsers send the origin', input: 'HTTPS://App.Example.com:443', expected: ['https://app.example.com'] },
  { name: 'unset', input: '', expected: [] },
];
const bad = [
  { name: 'a scheme alone (every https page)', input: 'https:' },
  { name: 'a keyword', input: "'self'" },
  { name: 'two sources without a comma', input: "'self' https://app.example.com" },
  { name: 'another CSP directive', input: 'https://app.example.com; report-uri https://evil.example' },
  { name: 'a path', input: 'https://app.example.com/embed' },
  { name: 'a query', input: 'https://app.example.com?x=1' },
  { name: 'a bare host', input: 'app.example.com' },
  { name: 'another scheme', input: 'ftp://app.example.com' },
  { name: 'credentials', input: 'https://user@app.example.com' },
  { name: 'a wildcard', input: 'https://*.example.com' },
];

for (const variable of ['PORTAL_FRAME_ANCESTORS', 'API_CORS_ORIGINS'] as const) {
  const read = (input: string) => {
    const { api } = loadConfig({ [variable]: input });
    return variable === 'PORTAL_FRAME_ANCESTORS' ? api.portalFrameAncestors : api.corsOrigins;
  };
  describe(`${variable}: exact origins only`, () => {
    for (const { name, input, expected } of good) it(`takes ${name}`, () => assert.deepEqual(read(input), expected));
    for (const { name, input } of bad) {
      it(`refuses ${name}`, () => assert.throws(() => read(input), (error: unknown) => error instanceof ConfigError && error.message.includes(variable), input));
    }
  });
}

it("the portal's frame-ancestors is the configured origins and nothing else", () => {
  const { api } = loadConfig({ PORTAL_FRAME_ANCESTORS: 'https://app.example.com,https://admin.example.com' });
  const csp = portalSecurityHeaders({ dir: undefined, frameAncestors: api.portalFrameAncestors, branding: { name: 'Webhooks' } })['Content-Security-Policy'];
  assert.equal(csp?.split('; ').at(-1), 'frame-ancestors https://app.example.com https://admin.example.com');
});
