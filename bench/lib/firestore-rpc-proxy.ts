/**
 * A counting proxy between a function process and the Firestore emulator. The built bundle carries
 * its own copy of the Firestore client, so the bench cannot count at the client's API as
 * firestore-counter.ts does for the sources; it counts what crosses the wire instead: gRPC calls by
 * method, the writes inside each Commit, and the documents each RunQuery / BatchGetDocuments
 * returned (Firestore bills a read per document, at least one per query). Plain HTTP/2 (h2c), as the
 * client speaks to an emulator. Bench-only.
 */
import { connect, constants, createServer, type ClientHttp2Session, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface RpcCounts {
  /** gRPC calls by method name (Commit, RunQuery, BatchGetDocuments, BeginTransaction, ...). */
  calls: Record<string, number>;
  /** Writes inside Commit requests (a create, an update, a set or a delete each). */
  writes: number;
  /** Documents returned by RunQuery and BatchGetDocuments. */
  documentsRead: number;
  /** RunQuery calls that returned no document (billed as one read each). */
  emptyQueries: number;
}

export interface RpcProxy {
  /** host:port to give the function as FIRESTORE_EMULATOR_HOST. */
  host: string;
  counts(): RpcCounts;
  reset(): void;
  close(): Promise<void>;
}

const empty = (): RpcCounts => ({ calls: {}, writes: 0, documentsRead: 0, emptyQueries: 0 });

/** The gRPC messages in a byte stream: 1 byte compressed flag, 4 bytes length, then the message. */
function grpcMessages(buffer: Buffer): Buffer[] {
  const messages: Buffer[] = [];
  for (let at = 0; at + 5 <= buffer.length; ) {
    const length = buffer.readUInt32BE(at + 1);
    messages.push(buffer.subarray(at + 5, at + 5 + length));
    at += 5 + length;
  }
  return messages;
}

/** Field numbers present at the top level of a protobuf message, with how often. */
function topLevelFields(message: Buffer): Map<number, number> {
  const fields = new Map<number, number>();
  let at = 0;
  const varint = () => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = message[at++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
      shift += 7;
    }
  };
  while (at < message.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) varint();
    else if (wire === 1) at += 8;
    else if (wire === 2) {
      const length = varint(); // read before `at`: `at += varint()` would add to the old offset
      at += length;
    }
    else if (wire === 5) at += 4;
    else break; // groups are not used by Firestore's protos
    fields.set(field, (fields.get(field) ?? 0) + 1);
  }
  return fields;
}

// Field numbers of google.firestore.v1: CommitRequest.writes = 2; RunQueryResponse.document = 1;
// BatchGetDocumentsResponse.found = 1.
const COMMIT_WRITES = 2;
const RESPONSE_DOCUMENT = 1;

export async function startRpcProxy(upstreamHost: string): Promise<RpcProxy> {
  let counts = empty();
  let upstream: ClientHttp2Session | undefined;
  const session = () => {
    if (!upstream || upstream.closed || upstream.destroyed) {
      upstream = connect(`http://${upstreamHost}`);
      upstream.on('error', () => (upstream = undefined));
    }
    return upstream;
  };
  const server = createServer();
  server.on('stream', (stream, headers: IncomingHttpHeaders) => {
    const path = String(headers[':path'] ?? '');
    const method = path.slice(path.lastIndexOf('/') + 1);
    counts.calls[method] = (counts.calls[method] ?? 0) + 1;
    const forwarded: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(headers)) if (name !== ':scheme' && name !== ':authority') forwarded[name] = value;
    const call = session().request(forwarded, { waitForTrailers: false });
    const requestChunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => {
      requestChunks.push(chunk);
      call.write(chunk);
    });
    stream.on('end', () => {
      call.end();
      if (method === 'Commit') for (const message of grpcMessages(Buffer.concat(requestChunks))) counts.writes += topLevelFields(message).get(COMMIT_WRITES) ?? 0;
    });
    const responseChunks: Buffer[] = [];
    let trailers: OutgoingHttpHeaders | undefined;
    let trailersOnly = false;
    call.on('response', (response) => {
      const { [constants.HTTP2_HEADER_STATUS]: status, ...rest } = response;
      // A call that fails at once (ALREADY_EXISTS of a create, say) answers with headers alone.
      trailersOnly = 'grpc-status' in rest;
      stream.respond({ ':status': status, ...rest }, trailersOnly ? { endStream: true } : { waitForTrailers: true });
    });
    call.on('trailers', (received) => (trailers = { ...received }));
    call.on('data', (chunk: Buffer) => {
      responseChunks.push(chunk);
      stream.write(chunk);
    });
    call.on('end', () => {
      if (method === 'RunQuery' || method === 'BatchGetDocuments') {
        const found = grpcMessages(Buffer.concat(responseChunks)).filter((message) => topLevelFields(message).has(RESPONSE_DOCUMENT)).length;
        counts.documentsRead += found;
        if (method === 'RunQuery' && found === 0) counts.emptyQueries++;
      }
      if (trailersOnly || stream.destroyed) return;
      stream.once('wantTrailers', () => stream.sendTrailers(trailers ?? {}));
      stream.end();
    });
    call.on('error', () => stream.destroyed || stream.close(constants.NGHTTP2_INTERNAL_ERROR));
    stream.on('error', () => call.destroyed || call.close(constants.NGHTTP2_CANCEL));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    counts: () => structuredClone(counts),
    reset: () => void (counts = empty()),
    close: async () => {
      upstream?.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
