import { CUSTOMER_SCOPES, MAX_TOKEN_SECONDS, type CustomerScope } from './customer-tokens.ts';
import { auditEntry, type ApiDeps, type RequestContext } from './api-deps.ts';
import type { ApiResult } from './webhook-handlers.ts';

/**
 * A customer token for this account, minted with a platform API key (the route's scope is one only
 * keys hold), and the portal URL carrying it in the fragment, which browsers never send to a server.
 */
export async function createPortalSession(deps: ApiDeps, context: RequestContext, accountId: string, body: { scopes?: CustomerScope[] | undefined; expiresInSeconds?: number | undefined; subject?: string | undefined }): Promise<ApiResult> {
  const scopes = [...new Set(body.scopes ?? CUSTOMER_SCOPES)];
  const subject = body.subject ?? 'portal';
  const { token, expiresAt } = await deps.tokens.mint({ accountId, subject, scopes, ttlSeconds: body.expiresInSeconds ?? MAX_TOKEN_SECONDS });
  const portal = deps.portalUrl ?? `${context.origin}/portal/`;
  await deps.webhooks.audit(accountId, auditEntry(context, 'portal-session.create', `portal-sessions/${subject}`, undefined, { subject, scopes, expiresAt }));
  context.logger.log('INFO', `portal session for ${subject} (${scopes.join(' ')}) until ${expiresAt.toISOString()}`, { subject });
  return { status: 201, body: { token, url: `${portal}#token=${encodeURIComponent(token)}`, expiresAt: expiresAt.toISOString(), scopes } };
}
