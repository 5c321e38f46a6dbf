/**
 * Real parts that let a function of the bundle run with production settings on this machine: Google's
 * clients with TLS and OAuth, going through an HTTPS proxy.
 * - a CONNECT proxy on 127.0.0.1 (what HTTPS_PROXY / grpc_proxy name), which records every tunnel and
 *   can send a host elsewhere;
 * - a metadata server (what GCE_METADATA_HOST names) that hands out an access token, as on Cloud Run;
 * - a TLS front with a self-signed certificate for a Google host name (trusted by the function through
 *   GRPC_DEFAULT_SSL_ROOTS_FILE_PATH), piping the decrypted stream to an emulator.
 */
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { generate } from 'selfsigned';

export interface ConnectProxy {
  url: string;
  /** Each CONNECT: the target asked for and the local port of the proxy's socket to where it went. */
  tunnels: Array<{ target: string; upstreamLocalPort: number | undefined }>;
  close(): Promise<void>;
}

export async function startConnectProxy(route: (target: string) => { host: string; port: number } | undefined = () => undefined): Promise<ConnectProxy> {
  const tunnels: ConnectProxy['tunnels'] = [];
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => {
    res.statusCode = 405;
    res.end('CONNECT only');
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
    const to = route(target) ?? { host, port };
    const tunnel = { target, upstreamLocalPort: undefined as number | undefined };
    tunnels.push(tunnel);
    const upstream = connect(to.port, to.host, () => {
      tunnel.upstreamLocalPort = upstream.localPort;
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    }
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    tunnels,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface MetadataServer {
  /** host:port, the value of GCE_METADATA_HOST. */
  host: string;
  accessToken: string;
  requests: Array<{ method: string; url: string; flavor: string | undefined; remotePort: number | undefined }>;
  close(): Promise<void>;
}

/** The GCE/Cloud Run metadata server, as far as Google's auth library asks it. */
export async function startMetadataServer(projectId: string): Promise<MetadataServer> {
  const accessToken = `ya29.test-${Math.random().toString(36).slice(2)}`;
  const requests: MetadataServer['requests'] = [];
  const server = createServer((req, res) => {
    const flavor = req.headers['metadata-flavor'] as string | undefined;
    requests.push({ method: req.method ?? '', url: req.url ?? '', flavor, remotePort: req.socket.remotePort });
    if (flavor !== 'Google') {
      res.statusCode = 403;
      res.end('Missing Metadata-Flavor:Google header.');
      return;
    }
    res.setHeader('Metadata-Flavor', 'Google');
    const path = new URL(req.url ?? '/', 'http://metadata').pathname;
    if (path === '/computeMetadata/v1/instance/service-accounts/default/token') {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ access_token: accessToken, expires_in: 3599, token_type: 'Bearer' }));
    } else if (path === '/computeMetadata/v1/project/project-id') res.end(projectId);
    else if (path === '/computeMetadata/v1/universe/universe-domain') res.end('googleapis.com');
    else if (path === '/computeMetadata/v1/instance') res.end('{}');
    else {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as { port: number }).port}`,
    accessToken,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface TlsFront {
  port: number;
  /** The certificate, to trust (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH). */
  rootsFile: string;
  /** The server names (SNI) of the connections it took. */
  servernames: string[];
  close(): Promise<void>;
}

/** TLS for `hostname` (HTTP/2, as gRPC speaks it) in front of a plaintext server such as an emulator. */
export async function startTlsFront(hostname: string, to: string, rootsFile: string): Promise<TlsFront> {
  const pems = await generate([{ name: 'commonName', value: hostname }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [{ name: 'basicConstraints', cA: true }, { name: 'subjectAltName', altNames: [{ type: 2, value: hostname }] }],
  });
  writeFileSync(rootsFile, pems.cert);
  const [host, port] = [to.slice(0, to.lastIndexOf(':')), Number(to.slice(to.lastIndexOf(':') + 1))];
  const servernames: string[] = [];
  const sockets = new Set<Socket>();
  const server = createTlsServer({ key: pems.private, cert: pems.cert, ALPNProtocols: ['h2'] }, (socket) => {
    servernames.push((socket as unknown as { servername?: string }).servername ?? '');
    const upstream = connect(port, host);
    socket.pipe(upstream);
    upstream.pipe(socket);
    for (const one of [socket, upstream]) {
      sockets.add(one);
      one.once('close', () => sockets.delete(one));
    }
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    rootsFile,
    servernames,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
