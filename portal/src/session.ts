/**
 * The portal's session: a customer token from the magic link's fragment (#token=…; browsers never
 * send fragments to servers), kept in sessionStorage for this tab only, and renewed before it expires
 * by asking the embedding page (docs/portal.md: the postMessage protocol).
 */
export interface Session {
  token: string;
  accountId: string;
  expiresAt: number;
  scopes: string[];
}

const KEY = 'hookshape.portal.token';
/** The routes a magic link may open (`page=`): the portal's own pages, nothing else. */
const PAGE = /^\/(?:webhooks|deliveries|events|editor|scaffold|secrets)(?:\/[^\s#?&]*)?$/;

function claimsOf(token: string): { acc?: unknown; exp?: unknown; scope?: unknown } | undefined {
  try {
    const payload = token.split('.')[1] ?? '';
    return JSON.parse(atob(payload.replace(/-/g, '+').replace(/_/g, '/')));
  } catch {
    return undefined;
  }
}

export function sessionOf(token: string): Session | undefined {
  const claims = claimsOf(token);
  if (!claims || typeof claims.acc !== 'string' || typeof claims.exp !== 'number') return undefined;
  return { token, accountId: claims.acc, expiresAt: claims.exp * 1000, scopes: typeof claims.scope === 'string' ? claims.scope.split(' ') : [] };
}

/** The session from the fragment (which is then removed from the address bar) or from this tab's storage. */
export function startSession(): Session | 'expired' {
  const fragment = new URLSearchParams(location.hash.replace(/^#/, ''));
  const fromLink = fragment.get('token');
  const wantedAccount = fragment.get('account');
  // `&page=/deliveries/<webhook>/<event>` (a portalPath's route) opens that page instead of the webhooks list.
  const page = fragment.get('page');
  if (fromLink) {
    history.replaceState(null, '', `${location.pathname}${location.search}#${page && PAGE.test(page) ? page : '/webhooks'}`);
    sessionStorage.setItem(KEY, fromLink);
  }
  const token = fromLink ?? sessionStorage.getItem(KEY);
  const session = token ? sessionOf(token) : undefined;
  if (!session || session.expiresAt <= Date.now() || (wantedAccount !== null && wantedAccount !== session.accountId)) {
    sessionStorage.removeItem(KEY);
    return 'expired';
  }
  return session;
}

/** Set once the session has ended (expiry, a 401): from then on no token is asked for or taken. */
let ended = false;

export function replaceToken(session: Session, token: string): boolean {
  const next = sessionOf(token);
  if (ended || !next || next.accountId !== session.accountId || next.expiresAt <= session.expiresAt) return false;
  Object.assign(session, next);
  sessionStorage.setItem(KEY, token);
  return true;
}

/** Whether the session has ended: no page is shown and nothing is asked for any more. */
export const sessionEnded = (): boolean => ended;

/** Forgets the token for good: the Session expired screen stays until a new link is opened. */
export const endSession = (): void => {
  ended = true;
  sessionStorage.removeItem(KEY);
};

/**
 * Asks the embedding page for a fresh token a minute before expiry: `{ type: 'hookshape:token-request',
 * accountId, expiresAt }` to each allowed origin; the page answers `{ type: 'hookshape:token', token }`.
 * Only messages from the parent window and an allowed origin, for the same account, are taken; none
 * once the session has ended (endSession: expiry or a 401), when the asking stops too.
 */
export function keepFresh(session: Session, embedOrigins: readonly string[], onExpired: () => void): void {
  if (window.parent === window || embedOrigins.length === 0) {
    setTimeout(onExpired, Math.max(0, session.expiresAt - Date.now()));
    return;
  }
  window.addEventListener('message', (event) => {
    if (event.source !== window.parent || !embedOrigins.includes(event.origin)) return;
    const data = event.data as { type?: unknown; token?: unknown };
    if (data?.type === 'hookshape:token' && typeof data.token === 'string') replaceToken(session, data.token);
  });
  const tick = () => {
    if (ended) return;
    const left = session.expiresAt - Date.now();
    if (left <= 0) return onExpired();
    if (left < 60_000) for (const origin of embedOrigins) window.parent.postMessage({ type: 'hookshape:token-request', accountId: session.accountId, expiresAt: new Date(session.expiresAt).toISOString() }, origin);
    setTimeout(tick, Math.min(15_000, Math.max(1000, left - 60_000)));
  };
  tick();
}
