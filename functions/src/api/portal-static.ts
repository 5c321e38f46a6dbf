/**
 * The customer portal's static files (built by vite into build/functions/portal), served by the api
 * function at /portal/. Hashed assets are cached for a year; index.html is revalidated on every load,
 * so a deploy reaches everyone at once. Every answer carries the portal's strict CSP: scripts and
 * styles from this origin only (no inline), no request to any other origin, frame-ancestors from
 * PORTAL_FRAME_ANCESTORS.
 */
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import type { PortalBranding } from '../config/runtime-config.ts';

export interface PortalSettings {
  /** The folder holding index.html and assets/; undefined: the bundle has no portal. */
  dir: string | undefined;
  frameAncestors: readonly string[];
  branding: PortalBranding;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
};

const ASSET = /^assets\/[A-Za-z0-9_.-]+$/;

export function portalSecurityHeaders(settings: PortalSettings): Record<string, string> {
  const ancestors = settings.frameAncestors.length > 0 ? settings.frameAncestors.join(' ') : "'none'";
  return {
    'Content-Security-Policy': [
      "default-src 'none'",
      "script-src 'self'",
      "style-src 'self'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "font-src 'self'",
      "base-uri 'none'",
      "form-action 'none'",
      `frame-ancestors ${ancestors}`,
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    'Cross-Origin-Resource-Policy': 'same-origin',
    // A page that opened the portal (or that it opens) gets no handle on its window: no tabnabbing,
    // no cross-window leaks. Frames are not concerned: the embedding page still talks to it by postMessage.
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
  };
}

export interface StaticAnswer {
  status: number;
  body: Uint8Array | string;
  headers: Record<string, string>;
}

/** The file for a path under /portal/ (`''` is index.html), or a 404. */
export async function portalFile(settings: PortalSettings, path: string): Promise<StaticAnswer> {
  const security = portalSecurityHeaders(settings);
  const notFound: StaticAnswer = { status: 404, body: 'not found', headers: { ...security, 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' } };
  if (path === 'config.json') {
    return { status: 200, body: JSON.stringify({ branding: settings.branding, embedOrigins: settings.frameAncestors }), headers: { ...security, 'Content-Type': TYPES['.json']!, 'Cache-Control': 'no-cache' } };
  }
  if (!settings.dir) return notFound;
  const index = path === '' || path === 'index.html';
  if (!index && !ASSET.test(path)) return notFound;
  try {
    const body = await readFile(join(settings.dir, index ? 'index.html' : path));
    const cache = index ? 'no-cache' : 'public, max-age=31536000, immutable';
    return { status: 200, body: new Uint8Array(body), headers: { ...security, 'Content-Type': TYPES[extname(index ? 'index.html' : path)] ?? 'application/octet-stream', 'Cache-Control': cache } };
  } catch {
    return notFound;
  }
}
