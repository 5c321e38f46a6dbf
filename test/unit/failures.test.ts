import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { status as grpcLibraryStatus } from '@grpc/grpc-js';
import { classifyFailure, errorMessage, GrpcStatus, TransientError, type FailureClass } from '../../functions/src/core/failures.ts';
import { RedeliverError } from '../../functions/src/dispatch/dispatch-event.ts';

const grpc = (code: number, message = 'from the API') => Object.assign(new Error(`${code} ${message}`), { code });
const network = (code: string) => Object.assign(new Error(`connect ${code} 142.250.1.1:443`), { code, errno: -1, syscall: 'connect' });

describe('classifyFailure: one place decides what an unexpected error means', () => {
  describe('gRPC status codes (Firestore, Cloud Tasks, Secret Manager)', () => {
    const cases: Array<[keyof typeof GrpcStatus, number, FailureClass]> = [
      ['UNAVAILABLE', 14, 'transient'],
      ['DEADLINE_EXCEEDED', 4, 'transient'],
      ['ABORTED', 10, 'transient'],
      ['RESOURCE_EXHAUSTED', 8, 'transient'],
      ['INTERNAL', 13, 'transient'],
      ['INVALID_ARGUMENT', 3, 'internal'],
      ['NOT_FOUND', 5, 'internal'],
      ['PERMISSION_DENIED', 7, 'internal'],
      ['FAILED_PRECONDITION', 9, 'internal'],
      ['UNAUTHENTICATED', 16, 'internal'],
      ['ALREADY_EXISTS', 6, 'internal'],
      ['UNIMPLEMENTED', 12, 'internal'],
      ['DATA_LOSS', 15, 'internal'],
    ];
    for (const [name, code, expected] of cases) {
      it(`${code} ${name} is ${expected}`, () => {
        assert.equal(GrpcStatus[name], code);
        assert.equal(classifyFailure(grpc(code)), expected);
      });
    }

    it('GrpcStatus is the one table of codes, and it agrees with @grpc/grpc-js', () => {
      const library = Object.fromEntries(Object.entries(grpcLibraryStatus).filter(([name]) => Number.isNaN(Number(name))));
      assert.deepEqual({ ...GrpcStatus }, library);
    });
  });

  describe('network errors on the way to a Google API', () => {
    for (const code of ['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN', 'UND_ERR_SOCKET', 'UND_ERR_CONNECT_TIMEOUT', 'ERR_HTTP2_STREAM_ERROR', 'ERR_STREAM_PREMATURE_CLOSE']) {
      it(`${code} is transient`, () => assert.equal(classifyFailure(network(code)), 'transient'));
    }
    for (const code of ['ERR_INVALID_ARG_TYPE', 'EDESTINATION_REFUSED', 'ERR_MODULE_NOT_FOUND']) {
      it(`${code} (not a passing network fault) is internal`, () => assert.equal(classifyFailure(network(code)), 'internal'));
    }
  });

  describe('HTTP statuses of REST fallbacks (gaxios)', () => {
    const gaxios = (status: number) => Object.assign(new Error(`Request failed with status code ${status}`), { status, response: { status } });
    for (const status of [408, 429, 500, 502, 503, 504]) {
      it(`${status} is transient`, () => assert.equal(classifyFailure(gaxios(status)), 'transient'));
    }
    for (const status of [400, 401, 403, 404, 409, 412]) {
      it(`${status} is internal`, () => assert.equal(classifyFailure(gaxios(status)), 'internal'));
    }
    it('a 503 read from response.status alone', () => assert.equal(classifyFailure(Object.assign(new Error('x'), { response: { status: 503 } })), 'transient'));
    it('a 503 read from status alone', () => assert.equal(classifyFailure(Object.assign(new Error('x'), { status: 503 })), 'transient'));
    it('response.status wins over a status that is not an HTTP one', () => assert.equal(classifyFailure(Object.assign(new Error('x'), { status: 'UNAVAILABLE', response: { status: 503 } })), 'transient'));
    it('a gaxios string code with a 403 stays internal', () => assert.equal(classifyFailure(Object.assign(new Error('x'), { code: '403', status: 403, response: { status: 403 } })), 'internal'));
  });

  describe('cause chains (adapters wrap client errors)', () => {
    it('a wrapped UNAVAILABLE is transient (as CloudTasksRetryScheduler wraps it)', () => {
      const wrapped = new Error('could not enqueue attempt 2 of delivery wh/evt: 14 UNAVAILABLE: no healthy upstream', { cause: grpc(GrpcStatus.UNAVAILABLE) });
      assert.equal(classifyFailure(wrapped), 'transient');
    });
    it('deep chains are followed', () => {
      assert.equal(classifyFailure(new Error('a', { cause: new Error('b', { cause: new Error('c', { cause: network('ECONNRESET') }) }) })), 'transient');
    });
    it('a wrapped PERMISSION_DENIED stays internal', () => {
      assert.equal(classifyFailure(new Error('could not enqueue', { cause: grpc(GrpcStatus.PERMISSION_DENIED) })), 'internal');
    });
    it('the first transient link counts, wherever it is', () => {
      assert.equal(classifyFailure(Object.assign(new Error('outer', { cause: grpc(GrpcStatus.UNAVAILABLE) }), { code: GrpcStatus.PERMISSION_DENIED })), 'transient');
    });
    it('a cycle ends the walk', () => {
      const a = new Error('a');
      const b = new Error('b', { cause: a });
      (a as { cause?: unknown }).cause = b;
      assert.equal(classifyFailure(a), 'internal');
      const c = new Error('c', { cause: grpc(GrpcStatus.DEADLINE_EXCEEDED) });
      (c.cause as { cause?: unknown }).cause = c;
      assert.equal(classifyFailure(c), 'transient');
    });
    it('a cause that is not an object ends the walk', () => {
      assert.equal(classifyFailure(new Error('a', { cause: 'UNAVAILABLE' })), 'internal');
      assert.equal(classifyFailure(new Error('a', { cause: 14 })), 'internal');
    });
  });

  describe('our own errors', () => {
    it('TransientError is transient', () => assert.equal(classifyFailure(new TransientError('later')), 'transient'));
    it('RedeliverError (a TransientError) is transient', () => assert.equal(classifyFailure(new RedeliverError('redeliver')), 'transient'));
    it('a TransientError as a cause is transient', () => assert.equal(classifyFailure(new Error('x', { cause: new TransientError('later') })), 'transient'));
    it('a bug is internal', () => {
      let error: unknown;
      try {
        (undefined as unknown as { x: { y: number } }).x.y;
      } catch (caught) {
        error = caught;
      }
      assert.ok(error instanceof TypeError);
      assert.equal(classifyFailure(error), 'internal');
    });
    it('a plain Error is internal', () => assert.equal(classifyFailure(new Error('RETRY_WORKER_URL is not set: retries cannot be scheduled')), 'internal'));
  });

  describe('things thrown that are not Errors', () => {
    const cases: Array<[string, unknown, FailureClass]> = [
      ['a string', 'UNAVAILABLE', 'internal'],
      ['undefined', undefined, 'internal'],
      ['null', null, 'internal'],
      ['a number', 14, 'internal'],
      ['a boolean', false, 'internal'],
      ['a symbol', Symbol('x'), 'internal'],
      ['an empty object', {}, 'internal'],
      ['a plain object with a gRPC code', { code: GrpcStatus.UNAVAILABLE, details: 'unavailable' }, 'transient'],
      ['a plain object with a lasting gRPC code', { code: GrpcStatus.PERMISSION_DENIED }, 'internal'],
      ['an array', [grpc(GrpcStatus.UNAVAILABLE)], 'internal'],
    ];
    for (const [name, thrown, expected] of cases) {
      it(`${name} is ${expected}`, () => assert.equal(classifyFailure(thrown), expected));
    }
  });
});

describe('errorMessage: a sentence for the record, never a stack', () => {
  it('an Error gives its message', () => assert.equal(errorMessage(grpc(GrpcStatus.PERMISSION_DENIED, 'PERMISSION_DENIED: missing role')), '7 PERMISSION_DENIED: missing role'));
  it('an Error without a message gives its name', () => assert.equal(errorMessage(new TypeError()), 'TypeError'));
  it('other values are turned into text', () => {
    assert.equal(errorMessage('just text'), 'just text');
    assert.equal(errorMessage(undefined), 'undefined');
    assert.equal(errorMessage(null), 'null');
    assert.equal(errorMessage(42), '42');
  });
  it('never holds a stack', () => assert.doesNotMatch(errorMessage(new Error('boom')), / {4}at /));
});
