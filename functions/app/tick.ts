/**
 * tick (Cloud Scheduler, every minute): advances every rollout that is due, and looks at the route
 * of every rollout waiting for a person. Scheduler-driven rollouts move here; workflow-driven ones
 * only when their workflow is overdue by the grace period (the execution died or is stuck) — the
 * safety net.
 */
import type { DueRollout, RolloutStore } from '../ports/rollout-store.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import type { RolloutExecutor } from './rollout-executor.ts';

export interface TickReport {
  readonly due: number;
  readonly advanced: number;
  readonly failed: number;
  readonly skipped: number;
}

/**
 * The due rollouts this tick advances: every scheduler-driven one, and a workflow-driven one only
 * once its next action is overdue by `workflowGraceMs` (its execution should have come by then).
 */
export function eligibleForTick(
  due: readonly DueRollout[],
  now: number,
  workflowGraceMs: number,
): DueRollout[] {
  return due.filter((d) => d.driver === 'scheduler' || d.nextActionAt <= now - workflowGraceMs);
}

/** Runs `work` on every item with at most `limit` running at once, in order of `items`. */
export async function runWithConcurrency<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
) {
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

export interface TickDeps {
  readonly store: RolloutStore;
  readonly executor: RolloutExecutor;
  readonly config: Config;
  readonly clock: () => number;
  readonly log: Logger;
}

export async function tick(deps: TickDeps, command: { readonly actor: string }): Promise<TickReport> {
  const now = deps.clock();
  // Due rollouts, and those waiting for a person: a look at their route tells whether one acted.
  const [scheduled, waiting] = await Promise.all([
    deps.store.due(now, deps.config.tick.batch),
    deps.store.waiting(deps.config.tick.batch),
  ]);
  const due = [...scheduled, ...waiting];
  const eligible = eligibleForTick(due, now, deps.config.tick.workflowGraceMs);
  let advanced = 0;
  let failed = 0;
  await runWithConcurrency(eligible, deps.config.tick.concurrency, async (d) => {
    try {
      await deps.executor.run(d.id, { type: 'due', actor: command.actor });
      advanced += 1;
    } catch (error) {
      failed += 1;
      deps.log.error('could not advance a due rollout; the next tick tries again', {
        rolloutId: d.id,
        error,
      });
    }
  });
  return { due: due.length, advanced, failed, skipped: due.length - eligible.length };
}
