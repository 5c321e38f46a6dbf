import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkBody, MAX_BODY_BYTES } from '../../functions/src/api/request-body.ts';

const json = 'application/json';
const nested = (depth: number) => `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;

const cases: Array<{ name: string; raw: string | Buffer | undefined; type?: string; code?: string; field?: string }> = [
  { name: 'no body passes (the schema decides)', raw: undefined },
  { name: 'a plain object passes', raw: '{"name":"x","headers":{"A":"b"}}' },
  { name: 'JSON with a +json media type passes', raw: '{}', type: 'application/merge-patch+json; charset=utf-8' },
  { name: 'over the size limit', raw: `"${'x'.repeat(MAX_BODY_BYTES)}"`, code: 'payload_too_large' },
  { name: 'not JSON by its media type', raw: 'a=b', type: 'application/x-www-form-urlencoded', code: 'unsupported_media_type' },
  { name: 'no media type', raw: '{}', type: '', code: 'unsupported_media_type' },
  { name: 'JSON that does not parse', raw: '{"a":', code: 'invalid_request' },
  { name: 'bytes that are not UTF-8', raw: Buffer.from([0x22, 0xc3, 0x28, 0x22]), code: 'invalid_request' },
  { name: '20 levels pass', raw: nested(19) },
  { name: '21 levels do not', raw: nested(21), code: 'validation_failed', field: 'a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a.a' },
  { name: '100 000 nested arrays are refused without recursion', raw: `${'['.repeat(100_000)}${']'.repeat(100_000)}`, code: 'validation_failed' },
  { name: '__proto__ deep inside', raw: '{"data":{"list":[{"__proto__":{"x":1}}]}}', code: 'validation_failed', field: 'data.list[0].__proto__' },
  { name: 'constructor as a key', raw: '{"constructor":1}', code: 'validation_failed', field: 'constructor' },
  { name: 'prototype as a key', raw: '{"a":{"prototype":1}}', code: 'validation_failed', field: 'a.prototype' },
];

describe('checkBody: bounds every request body before a schema sees it', () => {
  for (const test of cases) {
    it(test.name, () => {
      const raw = typeof test.raw === 'string' ? Buffer.from(test.raw) : test.raw;
      const problem = checkBody(raw, test.type ?? json);
      assert.equal(problem?.code, test.code);
      if (test.field) assert.equal(problem?.errors?.[0]?.field, test.field);
    });
  }
});
