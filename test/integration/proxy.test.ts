import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PubSub } from '@google-cloud/pubsub';
import { createEventsTopic } from '../../functions/dev/emulator-wiring.ts';
import { startFunctionProcess, type FunctionProcess } from '../../functions/dev/function-process.ts';
import { eventOf } from '../support/harness.ts';
import { startConnectProxy, startMetadataServer, startTlsFront, type ConnectProxy, type MetadataServer, type TlsFront } from '../support/google-front.ts';
import { deliveryPath, Firestore, webhookPath } from '../support/kit.ts';
import { startReceiver, type Receiver } from '../support/receiver.ts';

// The dispatcher of build/functions with production settings and HTTPS_PROXY set: no emulator switch
// for Firestore, so its client speaks TLS to firestore.googleapis.com:443 with an OAuth token from the
// metadata server, as on Cloud Run. Only on this path does the bundle load gaxios's lazy chunks: the
// proxy agent (https-proxy-agent, CommonJS: it lost its named export in the bundle, evanw/esbuild#3245)
// and node-fetch. The auth library's requests go through the proxy (HTTPS_PROXY); gRPC goes through it
// too (grpc_proxy), and the proxy sends firestore.googleapis.com:443 to a TLS front of the Firestore
// emulator whose certificate the function trusts (GRPC_DEFAULT_SSL_ROOTS_FILE_PATH).

const FIRESTORE_HOST = 'firestore.googleapis.com';

describe('Google APIs through an HTTPS proxy (the bundle, production settings)', () => {
  const projectId = `proxy-${randomBytes(4).toString('hex')}`;
  const work = mkdtempSync(join(tmpdir(), 'hookshape-proxy-'));
  let db: Firestore;
  let receiver: Receiver;
  let metadata: MetadataServer;
  let front: TlsFront;
  let proxy: ConnectProxy;
  let dispatch: FunctionProcess | undefined;
  let pubsub: PubSub | undefined;

  before(async () => {
    db = new Firestore({ projectId });
    [receiver, metadata, front] = await Promise.all([startReceiver(), startMetadataServer(projectId), startTlsFront(FIRESTORE_HOST, process.env.FIRESTORE_EMULATOR_HOST!, join(work, 'roots.pem'))]);
    proxy = await startConnectProxy((target) => (target === `${FIRESTORE_HOST}:443` ? { host: '127.0.0.1', port: front.port } : undefined));
    dispatch = await startFunctionProcess({
      target: 'dispatchEvent',
      env: {
        GOOGLE_CLOUD_PROJECT: projectId,
        HTTPS_PROXY: proxy.url,
        grpc_proxy: proxy.url,
        GRPC_DEFAULT_SSL_ROOTS_FILE_PATH: front.rootsFile,
        GCE_METADATA_HOST: metadata.host,
        // Production: nothing says where the function runs; the auth library asks the metadata server.
        METADATA_SERVER_DETECTION: 'ping-only',
        FIRESTORE_EMULATOR_HOST: undefined,
        PUBSUB_EMULATOR_HOST: undefined,
        GOOGLE_APPLICATION_CREDENTIALS: undefined,
        HOME: work, // no gcloud credentials of this machine's user
        ALLOW_LOOPBACK_DESTINATIONS: 'true',
        RETRY_WORKER_URL: 'http://127.0.0.1:9/',
      },
    });
    pubsub = await createEventsTopic({ projectId, topic: 'hookshape-events', dispatchUrl: dispatch.url });
  });
  after(async () => {
    await dispatch?.kill();
    await Promise.allSettled([receiver.close(), metadata.close(), front.close(), proxy.close(), pubsub?.close(), db.terminate()]);
    rmSync(work, { recursive: true, force: true });
  });

  it('delivers an event: the token from the metadata server and Firestore over TLS, both through the proxy', async () => {
    await db.doc(webhookPath('acc_proxy', 'wh_proxy')).set({ name: 'proxied', events: ['call.created'], url: `${receiver.url}/proxied`, body: '{"call": "{{ data.call.id }}"}' });
    const event = eventOf('call.created', 'acc_proxy', { call: { id: 'call_p1' } });
    await pubsub!.topic('hookshape-events').publishMessage({ json: event, attributes: { type: event.type, accountId: event.accountId } });

    let record: FirebaseFirestore.DocumentData | undefined;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 100))) {
      record = (await db.doc(deliveryPath('acc_proxy', 'wh_proxy', event.id)).get()).data();
      if (record && record.status !== 'pending') break;
    }
    const detail = () => `record: ${JSON.stringify(record?.status)}\ntunnels: ${JSON.stringify(proxy.tunnels)}\nmetadata: ${JSON.stringify(metadata.requests)}\n${dispatch!.output()}`;
    assert.equal(record?.status, 'succeeded', detail());
    assert.deepEqual(receiver.requests.filter((request) => request.url === '/proxied').map((request) => JSON.parse(request.body)), [{ call: 'call_p1' }]);

    // The auth library found the metadata server and got its token, each request through a tunnel.
    const paths = metadata.requests.map((request) => new URL(request.url, 'http://metadata').pathname);
    assert.ok(paths.includes('/computeMetadata/v1/instance'), detail());
    assert.ok(paths.includes('/computeMetadata/v1/instance/service-accounts/default/token'), detail());
    const tunnelled = new Set(proxy.tunnels.filter((tunnel) => tunnel.target === metadata.host).map((tunnel) => tunnel.upstreamLocalPort));
    for (const request of metadata.requests) assert.ok(tunnelled.has(request.remotePort), `${request.url} did not come through the proxy\n${detail()}`);
    // Firestore's gRPC went through the proxy to the TLS front, with the host name checked against its certificate.
    assert.ok(proxy.tunnels.some((tunnel) => tunnel.target === `${FIRESTORE_HOST}:443`), detail());
    assert.ok(front.servernames.includes(FIRESTORE_HOST), detail());
    assert.doesNotMatch(dispatch!.output(), /is not a (constructor|function)|Cannot find (module|package)|MetadataLookupWarning/);
  });
});
