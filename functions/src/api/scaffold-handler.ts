import { scaffoldWebhook, type ScaffoldInput } from '../scaffold/scaffold-webhook.ts';
import { validateWebhookDocument } from '../validation/validate-webhook.ts';
import type { ApiDeps, RequestContext } from './api-deps.ts';
import { ApiProblem } from './problem.ts';
import type { ApiResult } from './webhook-handlers.ts';

/**
 * A webhook draft from the receiver's example (scaffold/). Writes nothing: the answer is a body for
 * createWebhook, with what the dispatcher's checks say of it, so a script can create it as it is.
 */
export async function scaffoldWebhookDraft(deps: ApiDeps, context: RequestContext, accountId: string, body: ScaffoldInput): Promise<ApiResult> {
  const result = await scaffoldWebhook(body);
  if (!result.ok) {
    const where = result.line === undefined ? '' : ` (line ${result.line}, column ${result.column})`;
    throw new ApiProblem('validation_failed', `${result.field} ${result.message}${where}`, {
      errors: [{ field: result.field, pointer: `/${result.field}`, message: result.message, ...(result.line === undefined ? {} : { line: result.line, column: result.column }) }],
    });
  }
  const report = await validateWebhookDocument(result.draft, { accountId, webhookId: 'wh_scaffold_draft', engine: deps.engine, now: deps.clock.now(), allowLoopback: deps.allowLoopback });
  context.logger.log('INFO', `scaffold for ${body.eventType}: ${result.mapped.length} mapped, ${result.unmatched.length} literal`, { eventType: body.eventType, exampleFormat: result.exampleFormat });
  return {
    status: 200,
    body: {
      draft: result.draft,
      exampleFormat: result.exampleFormat,
      mapped: result.mapped,
      unmatched: result.unmatched,
      secrets: result.secrets,
      validation: { ok: report.ok, errors: report.errors, warnings: report.warnings },
    },
  };
}
