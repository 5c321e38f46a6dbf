/**
 * Cost per million deliveries at Google Cloud list prices, from what the bench measured (CPU per
 * delivery of the built dispatch function, Firestore writes and reads per delivery) and what it
 * states (how an instance is billed, what a retry costs, how many retries a failing delivery makes).
 *
 * The prices are list prices in USD, Tier 1 regions (us-central1; Firestore in the nam5
 * multi-region, this deployment's default location), without free tiers or committed-use discounts,
 * read from the pages below on PRICES_READ_ON. Prices change: check them before quoting a figure.
 */
import { MAX_RETRIES_PER_TARGET } from '../../functions/src/delivery/retry-policy.ts';

export const PRICES_READ_ON = '2026-12-03';

export const PRICES = {
  // https://cloud.google.com/run/pricing — Cloud Run functions (2nd gen) are billed as Cloud Run
  // services with request-based billing: CPU and memory while an instance handles requests.
  vcpuSecond: 0.000024,
  gibSecond: 0.0000025,
  perMillionRequests: 0.4,
  // https://cloud.google.com/firestore/pricing — Standard edition, nam5: per 100,000 documents.
  // TTL deletes are billed as deletes.
  firestoreReadsPer100k: 0.06,
  firestoreWritesPer100k: 0.18,
  firestoreDeletesPer100k: 0.02,
  // https://cloud.google.com/pubsub/pricing — throughput, at least 1,000 bytes per publish and per
  // delivery (push) counted.
  pubsubPerTiB: 40,
  // https://cloud.google.com/tasks/pricing — per million billable operations (an API call such as
  // CreateTask, and each delivery attempt of a task), beyond the first million of the month.
  tasksPerMillionOperations: 0.4,
} as const;

export const SOURCES = {
  cloudRun: 'https://cloud.google.com/run/pricing',
  firestore: 'https://cloud.google.com/firestore/pricing',
  pubsub: 'https://cloud.google.com/pubsub/pricing',
  cloudTasks: 'https://cloud.google.com/tasks/pricing',
};

export interface CostInputs {
  /** CPU of the dispatch function per delivery (user + system, its Firestore client included), ms: measured. */
  cpuMsPerDelivery: number;
  /**
   * Firestore writes and billed reads per delivery on the success path, warm instance, at `fanOut`:
   * measured (an event claim and a result per delivery: 1 + 1/N writes).
   */
  writesPerDelivery: number;
  readsPerDelivery: number;
  /** Webhooks per event: one Pub/Sub message, one dispatch request and one event claim serve them all. Absent: 1. */
  fanOut?: number;
}

/** What the bench states rather than measures. */
export const ASSUMPTIONS = {
  /** The instance's memory (terraform's function_memory) and vCPU. */
  instanceGiB: 0.5,
  instanceVcpu: 1,
  /**
   * Billed instance time per CPU second used: Cloud Run scales out at about 60 % CPU, so an instance
   * is billed about 1 / 0.6 s of time (and of vCPU) per CPU second its deliveries use.
   */
  cpuUtilisation: 0.6,
  /** A failing delivery is retried as the seed's policy does: MAX_RETRIES_PER_TARGET times, no backup URL. */
  retriesPerFailingDelivery: MAX_RETRIES_PER_TARGET,
  /** Per retry: the task's CreateTask and its delivery attempt (Cloud Tasks), one worker request. */
  tasksOperationsPerRetry: 2,
  /** Per retry in the worker: the record and the webhook document read, the claim and the result written. */
  readsPerRetry: 2,
  writesPerRetry: 2,
  /** Per retry: the worker's CPU, as a delivery's (render, send, record). */
  cpuPerRetryAsDelivery: 1,
  /** Per event (shared by its fan-out), published once and pushed once: 2 × 1,000 billed bytes. */
  pubsubBytesPerEvent: 2000,
  /** Every record is deleted by its TTL (DELIVERY_RETENTION_DAYS): one delete per delivery. */
  ttlDeletesPerDelivery: 1,
  /** And every event claim, with the same retention: one delete per event (shared by its fan-out). */
  ttlDeletesPerEvent: 1,
} as const;

export interface CostBreakdown {
  failingShare: number;
  totalUsd: number;
  /** USD per million deliveries by term. */
  breakdown: Record<'functionCpu' | 'functionMemory' | 'functionRequests' | 'firestoreWrites' | 'firestoreReads' | 'firestoreTtlDeletes' | 'pubsub' | 'cloudTasks', number>;
  largestTerm: string;
  retriesPerMillion: number;
}

const MILLION = 1_000_000;
const TIB = 2 ** 40;
const cents = (usd: number) => Math.round(usd * 10_000) / 10_000;

export function costPerMillion(inputs: CostInputs, failingShare: number): CostBreakdown {
  const a = ASSUMPTIONS;
  const events = MILLION / (inputs.fanOut ?? 1);
  const retries = MILLION * failingShare * a.retriesPerFailingDelivery;
  const cpuSeconds = ((MILLION + retries * a.cpuPerRetryAsDelivery) * inputs.cpuMsPerDelivery) / 1000;
  const instanceSeconds = cpuSeconds / a.cpuUtilisation;
  const breakdown = {
    functionCpu: instanceSeconds * a.instanceVcpu * PRICES.vcpuSecond,
    functionMemory: instanceSeconds * a.instanceGiB * PRICES.gibSecond,
    functionRequests: ((events + retries) / MILLION) * PRICES.perMillionRequests,
    firestoreWrites: ((MILLION * inputs.writesPerDelivery + retries * a.writesPerRetry) / 100_000) * PRICES.firestoreWritesPer100k,
    firestoreReads: ((MILLION * inputs.readsPerDelivery + retries * a.readsPerRetry) / 100_000) * PRICES.firestoreReadsPer100k,
    firestoreTtlDeletes: ((MILLION * a.ttlDeletesPerDelivery + events * a.ttlDeletesPerEvent) / 100_000) * PRICES.firestoreDeletesPer100k,
    pubsub: ((events * a.pubsubBytesPerEvent) / TIB) * PRICES.pubsubPerTiB,
    cloudTasks: ((retries * a.tasksOperationsPerRetry) / MILLION) * PRICES.tasksPerMillionOperations,
  };
  const rounded = Object.fromEntries(Object.entries(breakdown).map(([name, usd]) => [name, cents(usd)])) as CostBreakdown['breakdown'];
  const largestTerm = Object.entries(breakdown).sort((x, y) => y[1] - x[1])[0]![0];
  return { failingShare, totalUsd: cents(Object.values(breakdown).reduce((sum, usd) => sum + usd, 0)), breakdown: rounded, largestTerm, retriesPerMillion: retries };
}
