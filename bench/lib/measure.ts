/** Closed-loop throughput windows, CPU per operation, medians. */

export type Op = () => Promise<void>;

export interface WindowResult {
  /** Operations per second of wall time. */
  rate: number;
  /** CPU (user + system, all threads of this process) per operation, µs. */
  cpuUs: number;
  ops: number;
}

export const median = (values: number[]): number => {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

export const round = (value: number, digits = 2): number => {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
};

/** Runs `concurrency` loops of `op` for about `ms` milliseconds; the ops in flight at the end finish and count. */
export async function runWindow(op: Op, concurrency: number, ms: number): Promise<WindowResult> {
  let stop = false;
  let ops = 0;
  const timer = setTimeout(() => (stop = true), ms);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (!stop) {
        await op();
        ops++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  clearTimeout(timer);
  return { rate: ops / seconds, cpuUs: (cpu.user + cpu.system) / ops, ops };
}

/**
 * Runs synchronous functions in alternating batches (each about `minBatchMs`) after a warm-up, and
 * returns the median µs per call of each.
 */
export function microAlternate<K extends string>(fns: Record<K, () => unknown>, { batches = 7, minBatchMs = 100, warmupMs = 200 } = {}): Record<K, number> {
  const names = Object.keys(fns) as K[];
  const sizes = {} as Record<K, number>;
  for (const name of names) {
    const fn = fns[name];
    const warmEnd = performance.now() + warmupMs;
    let calls = 0;
    while (performance.now() < warmEnd) {
      fn();
      calls++;
    }
    sizes[name] = Math.max(1, Math.round((calls * minBatchMs) / warmupMs));
  }
  const perCall = Object.fromEntries(names.map((name) => [name, [] as number[]])) as unknown as Record<K, number[]>;
  for (let b = 0; b < batches; b++) {
    const order = names.map((_, i) => names[(i + b) % names.length]!);
    for (const name of order) {
      const fn = fns[name];
      const n = sizes[name];
      const t0 = performance.now();
      for (let i = 0; i < n; i++) fn();
      perCall[name].push(((performance.now() - t0) * 1000) / n);
    }
  }
  return Object.fromEntries(names.map((name) => [name, median(perCall[name])])) as Record<K, number>;
}

/** Runs each named op in turn, round after round, starting each round with a different one. */
export async function alternate<K extends string>(
  ops: Record<K, Op>,
  { concurrency, rounds, windowMs, warmupMs, onRound }: { concurrency: number; rounds: number; windowMs: number; warmupMs: number; onRound?: (round: number) => void },
): Promise<Record<K, WindowResult[]>> {
  const names = Object.keys(ops) as K[];
  const results = Object.fromEntries(names.map((name) => [name, [] as WindowResult[]])) as unknown as Record<K, WindowResult[]>;
  for (const name of names) await runWindow(ops[name], concurrency, warmupMs);
  for (let r = 0; r < rounds; r++) {
    onRound?.(r);
    const order = names.map((_, i) => names[(i + r) % names.length]!);
    if (r % 2 === 1) order.reverse();
    for (const name of order) results[name].push(await runWindow(ops[name], concurrency, windowMs));
  }
  return results;
}
