import type { Request, Response } from '@google-cloud/functions-framework';
import { z } from 'zod';
import { classifyFailure, errorMessage } from '../core/failures.ts';
import { DEFAULT_REPAIR_LIMIT, repairDeliveries, type RepairDeps } from '../delivery/repair.ts';
import { describeIssues } from '../webhooks/describe-issues.ts';

const requestSchema = z
  .object({
    dryRun: z.boolean({ error: 'must be true or false' }).default(false),
    limit: z.number({ error: 'must be a number' }).int('must be a whole number').min(1, 'must be at least 1').max(1000, 'must be at most 1000').default(DEFAULT_REPAIR_LIMIT),
  })
  .strict();

/** Items listed in the answer; the summary counts them all. */
const ANSWER_ITEMS = 100;

/**
 * The HTTP entry of the repair sweep. In production only Cloud Scheduler's service account may call it
 * (IAM run.invoker, OIDC token; internal ingress). Body (optional JSON): { dryRun, limit }.
 */
export function createRepairHandler(deps: () => RepairDeps) {
  return async (req: Request, res: Response): Promise<void> => {
    const d = deps();
    if (req.method !== 'POST') {
      res.status(405).set('Allow', 'POST').json({ error: 'POST only' });
      return;
    }
    const raw: unknown = req.body;
    // Cloud Scheduler may send no body; the framework then gives undefined, '' or an empty buffer.
    const body = raw === undefined || raw === null || raw === '' || (Buffer.isBuffer(raw) && raw.length === 0) ? {} : raw;
    const parsed = requestSchema.safeParse(body);
    if (!parsed.success) {
      res.status(400).json({ error: `invalid request: ${describeIssues(parsed.error.issues)}` });
      return;
    }
    try {
      const summary = await repairDeliveries(d, { dryRun: parsed.data.dryRun, limit: parsed.data.limit }, d.logger.child({ component: 'repair' }));
      res.status(200).json({ ...summary, items: summary.items.slice(0, ANSWER_ITEMS), itemsOmitted: Math.max(0, summary.items.length - ANSWER_ITEMS) });
    } catch (error) {
      const transient = classifyFailure(error) === 'transient';
      d.logger.log('ERROR', `repair sweep interrupted: ${errorMessage(error)}`, { component: 'repair', errorCode: transient ? null : 'internal_error', stack: (error as Error)?.stack ?? null });
      // The next scheduled run tries again either way; the status tells the caller which kind it was.
      res.status(transient ? 503 : 500).json({ error: transient ? 'temporarily unavailable' : 'internal error (the log has the details)' });
    }
  };
}
