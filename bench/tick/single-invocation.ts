/**
 * Today's tick before the fan-out, for comparison: one invocation reads one page of due rollouts
 * (TICK_BATCH, at most 500) and advances them itself, TICK_CONCURRENCY (8, its default) at a
 * time, each through executor.run(id, due) — which reads the rollout again. Invocations follow
 * each other back to back (in production, one a minute) until none is due.
 */
import type { Runtime } from '../../functions/runtime.ts';

export const OLD_TICK_CONCURRENCY = 8;

/** Runs `work` on every item with at most `limit` running at once (the old tick's loop). */
async function runWithConcurrency<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next] as T;
      next += 1;
      await work(item);
    }
  });
  await Promise.all(workers);
}

/** One old-style invocation; returns how many rollouts it advanced (0: nothing was due). */
async function invocation(rt: Runtime, batch: number): Promise<{ advanced: number; failed: number }> {
  const now = rt.clock();
  // As the old tick: due rollouts, those waiting for a person, and stray operations, one page each.
  const [page] = await Promise.all([
    rt.store.due(now, batch),
    rt.store.waiting(batch),
    rt.store.strayOperations(now - rt.config.route.leaseMs - rt.config.route.operationTimeoutMs, batch),
  ]);
  let advanced = 0;
  let failed = 0;
  await runWithConcurrency(page.items, OLD_TICK_CONCURRENCY, async (r) => {
    try {
      await rt.executor.run(r.id, { type: 'due', actor: 'scheduler' });
      advanced += 1;
    } catch {
      failed += 1;
    }
  });
  return { advanced, failed };
}

/** Invocations until one advances nothing (nothing left due). */
export async function singleInvocationTicks(
  rt: Runtime,
  batch: number,
): Promise<{ invocations: number; advanced: number; failed: number }> {
  let invocations = 0;
  let advanced = 0;
  let failed = 0;
  for (;;) {
    const run = await invocation(rt, batch);
    invocations += 1;
    advanced += run.advanced;
    failed += run.failed;
    if (run.advanced === 0) return { invocations, advanced, failed };
  }
}
