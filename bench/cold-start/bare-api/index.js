// The bare comparison of the api section's cold start: a functions-framework HTTP function loading only
// the libraries the management API is made of (hono, @hono/zod-openapi, jose, the Firestore client) and
// answering GET /v1/accounts/{accountId}/deliveries the same way, as a user would write it with them:
// the Express request made a fetch Request for hono, one route with zod schemas for its parameters,
// the Bearer API key found by its SHA-256 (one document read, compared in constant time), the same
// collection-group query of the delivery log, the page as JSON. None of hookshape's own code. jose is
// loaded (as the api loads it) but an API key needs no token check. Plain JavaScript, unbundled.
import { createHash, timingSafeEqual } from 'node:crypto';
import * as functions from '@google-cloud/functions-framework';
import { FieldPath, Firestore, Timestamp } from '@google-cloud/firestore';
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi';
import * as jose from 'jose';

void jose.decodeJwt;

let app;

function build() {
  const db = new Firestore({ projectId: process.env.GOOGLE_CLOUD_PROJECT, ignoreUndefinedProperties: true });
  const hono = new OpenAPIHono();
  const route = createRoute({
    method: 'get',
    path: '/v1/accounts/{accountId}/deliveries',
    request: {
      params: z.object({ accountId: z.string().min(1) }),
      query: z.object({
        status: z.enum(['pending', 'succeeded', 'retrying', 'failed', 'invalid']).optional(),
        cursor: z.string().optional(),
        limit: z.coerce.number().int().min(1).max(50).optional(),
      }),
    },
    responses: { 200: { description: 'a page of deliveries', content: { 'application/json': { schema: z.object({ data: z.array(z.record(z.string(), z.unknown())), nextCursor: z.string().nullable() }) } } } },
  });
  hono.openapi(route, async (c) => {
    const key = /^Bearer +(\S+)$/.exec(c.req.header('authorization') ?? '')?.[1];
    const hash = key ? createHash('sha256').update(key).digest('hex') : '';
    const stored = key ? (await db.doc(`apiKeys/${hash.slice(0, 20)}`).get()).data() : undefined;
    if (!stored || stored.revokedAt || !timingSafeEqual(Buffer.from(stored.hash, 'hex'), Buffer.from(hash, 'hex'))) return c.json({ error: 'unauthenticated' }, 401);
    const { accountId } = c.req.valid('param');
    if (stored.accountId !== null && stored.accountId !== accountId) return c.json({ error: 'not found' }, 404);
    const { status, cursor, limit = 20 } = c.req.valid('query');
    let query = db.collectionGroup('deliveries').where('accountId', '==', accountId);
    if (status) query = query.where('status', '==', status);
    query = query.orderBy('createdAt', 'desc').orderBy(FieldPath.documentId(), 'desc');
    if (cursor) {
      const after = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
      const [seconds, nanos] = after.createdAt.split('.').map(Number);
      query = query.startAfter(new Timestamp(seconds, nanos), db.doc(after.path));
    }
    const snapshot = await query.limit(limit + 1).get();
    const docs = snapshot.docs.slice(0, limit);
    const last = docs.at(-1);
    const nextCursor = snapshot.docs.length > limit && last ? Buffer.from(JSON.stringify({ createdAt: `${last.get('createdAt').seconds}.${String(last.get('createdAt').nanoseconds).padStart(9, '0')}`, path: last.ref.path })).toString('base64url') : null;
    return c.json({ data: docs.map((doc) => doc.data()), nextCursor }, 200);
  });
  return hono;
}

functions.http('api', async (req, res) => {
  app ??= build();
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === 'string') headers.set(name, value);
  const response = await app.fetch(new Request(new URL(req.originalUrl, `http://${req.headers.host}`), { method: req.method, headers }));
  res.status(response.status);
  response.headers.forEach((value, name) => res.setHeader(name, value));
  res.end(Buffer.from(await response.arrayBuffer()));
});
