import type { Request as ExpressRequest, Response as ExpressResponse } from '@google-cloud/functions-framework';
import { createJsonLogger } from '../log/logger.ts';

/** What serves the API: a fetch-style app (hono's), built on the first request. */
export interface FetchApp {
  fetch(request: Request): Response | Promise<Response>;
}

// Hop-by-hop and framing headers belong to each side's HTTP stack, not to the request passed on.
const DROPPED_HEADERS = new Set(['connection', 'content-length', 'transfer-encoding', 'keep-alive', 'upgrade', 'expect']);

/**
 * The HTTP entry of the management API: turns the functions framework's (Express) request into a
 * fetch Request for the app, and its Response back. The framework has already read the body; its bytes
 * (`rawBody`) are what the app checks and parses, never the framework's own parse. The app and its
 * libraries load on the first request, so the other functions of the bundle never load them.
 */
export function createApiHandler(app: () => Promise<FetchApp>) {
  const logger = createJsonLogger();
  return async (req: ExpressRequest, res: ExpressResponse): Promise<void> => {
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined || DROPPED_HEADERS.has(name)) continue;
      for (const item of Array.isArray(value) ? value : [value]) headers.append(name, item);
    }
    const raw = (req as ExpressRequest & { rawBody?: Buffer }).rawBody;
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD' && raw !== undefined && raw.length > 0;
    if (!hasBody) headers.delete('content-type');
    const url = new URL(req.originalUrl || req.url, `http://${req.get('host') ?? '127.0.0.1'}`);
    let served: FetchApp;
    try {
      served = await app();
    } catch (error) {
      // The app could not be built (its configuration, or its key material): every request says so.
      logger.log('ERROR', `the management API could not start: ${(error as Error)?.message ?? String(error)}`, { component: 'api', stack: (error as Error)?.stack ?? null });
      res.status(503).set('Content-Type', 'application/problem+json').set('Retry-After', '10');
      res.end(JSON.stringify({ type: 'urn:hookshape:problem:unavailable', title: 'Temporarily unavailable', status: 503, code: 'unavailable', detail: 'the API could not start; the log says why' }));
      return;
    }
    const response = await served.fetch(new Request(url, { method: req.method, headers, ...(hasBody ? { body: new Uint8Array(raw) } : {}) }));
    res.status(response.status);
    response.headers.forEach((value, name) => res.setHeader(name, value));
    res.end(Buffer.from(await response.arrayBuffer()));
  };
}
