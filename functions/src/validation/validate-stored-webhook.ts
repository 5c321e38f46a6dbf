import type { Clock } from '../core/ports.ts';
import { announce, webhookInvalidEvent, type OperationsPublisher } from '../events/operational-events.ts';
import type { WebhookDocumentStore } from './webhook-document-store.ts';
import type { Logger } from '../log/logger.ts';
import type { TemplateEngine } from '../render/template-engine.ts';
import { webhookConfigHash } from './config-hash.ts';
import { summariseIssues, validateWebhookDocument, type StoredValidation } from './validate-webhook.ts';

export interface ValidationDeps {
  engine: TemplateEngine;
  webhookDocuments: WebhookDocumentStore;
  clock: Clock;
  logger: Logger;
  /** localhost hosts pass validation, as the sender lets them through (ALLOW_LOOPBACK_DESTINATIONS). */
  allowLoopback?: boolean;
  /** Where hookshape.webhook.invalid goes; absent: nowhere. */
  operations?: OperationsPublisher;
}

export type ValidationOutcome =
  | { result: 'deleted' }
  | { result: 'unchanged'; validation: StoredValidation }
  | { result: 'written'; validation: StoredValidation }
  | { result: 'changed-meanwhile' };

/** The `validation` map a document holds, when it looks like one hookshape wrote. */
export function storedValidation(data: unknown): StoredValidation | undefined {
  const validation = (data as { validation?: unknown } | undefined)?.validation;
  if (!validation || typeof validation !== 'object') return undefined;
  const value = validation as Partial<StoredValidation>;
  return typeof value.ok === 'boolean' && typeof value.configHash === 'string' ? (value as StoredValidation) : undefined;
}

/**
 * The result of the last validation if it failed and still describes the document as it is now. A
 * document edited since (its hash changed) is not blocked: its new validation is pending, and the
 * dispatcher's own checks still stop a broken delivery.
 */
export function failedValidation(data: unknown): StoredValidation | undefined {
  const validation = storedValidation(data);
  if (!validation || validation.ok !== false) return undefined;
  return validation.configHash === webhookConfigHash(data) ? validation : undefined;
}

/**
 * Validates the webhook document as it is now (re-read: events may arrive late or out of order, the
 * document is the truth) and writes the result into its `validation` field. Writes nothing when the
 * stored result is about the same configuration: the trigger's own write (and writes of `health`,
 * `enabled` or `disabled`) fire the trigger again and end here, so it cannot loop.
 */
export async function validateStoredWebhook(deps: ValidationDeps, accountId: string, webhookId: string): Promise<ValidationOutcome> {
  const logger = deps.logger.child({ accountId, webhookId });
  const document = await deps.webhookDocuments.read(accountId, webhookId);
  if (!document) {
    logger.log('INFO', `webhook ${webhookId} is deleted: nothing to validate`);
    return { result: 'deleted' };
  }
  const configHash = webhookConfigHash(document.data);
  const previous = storedValidation(document.data);
  if (previous?.configHash === configHash) {
    logger.log('DEBUG', `webhook ${webhookId}: configuration unchanged since its last validation; nothing written`);
    return { result: 'unchanged', validation: previous };
  }
  const report = await validateWebhookDocument(document.data, { accountId, webhookId, engine: deps.engine, now: deps.clock.now(), allowLoopback: deps.allowLoopback ?? false });
  const validation: StoredValidation = { ...report, checkedAt: deps.clock.now(), configHash };
  const written = await deps.webhookDocuments.writeValidation(accountId, webhookId, validation, document.version);
  if (!written) {
    // Edited between our read and write: that edit fires its own event, which validates it.
    logger.log('INFO', `webhook ${webhookId} changed while it was validated; the next event validates the new version`);
    return { result: 'changed-meanwhile' };
  }
  if (report.ok) {
    logger.log('INFO', `webhook ${webhookId} validated: ok${report.warnings.length ? ` (${report.warnings.length} warning(s): ${summariseIssues(report.warnings)})` : ''}`, { errors: 0, warnings: report.warnings.length });
  } else {
    logger.log('WARNING', `webhook ${webhookId} validation failed: ${summariseIssues(report.errors)}`, { errors: report.errors.length, warnings: report.warnings.length });
    // After the write: once per invalid configuration (its hash is in the event id, so a rerun dedupes).
    const name = (document.data as { name?: unknown } | undefined)?.name;
    await announce(deps.operations, webhookInvalidEvent({ accountId, webhookId, webhookName: typeof name === 'string' && name.trim() ? name : null, checkedAt: validation.checkedAt, configHash, errors: report.errors }), logger);
  }
  return { result: 'written', validation };
}
