/**
 * tick (Cloud Scheduler, every minute): advances every rollout that is due, looks at the route of
 * every rollout waiting for a person, and settles route operations nobody reported back on (their
 * driver died): one that landed after its rollout moved on is put right. Scheduler-driven rollouts move here; workflow-driven ones
 * only when their workflow is overdue by the grace period (the execution died or is stuck) — the
 * safety net.
 */
import type { Input } from '../core/inputs.ts';
import type { RouteOperation } from '../core/state.ts';
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
  const [scheduled, waiting, strays] = await Promise.all([
    deps.store.due(now, deps.config.tick.batch),
    deps.store.waiting(deps.config.tick.batch),
    // Operations nobody reported back on for longer than a driver may own one: settle them.
    deps.store.strayOperations(
      now - deps.config.route.leaseMs - deps.config.route.operationTimeoutMs,
      deps.config.tick.batch,
    ),
  ]);
  const due = [...scheduled, ...waiting];
  const eligible = eligibleForTick(due, now, deps.config.tick.workflowGraceMs);
  const work: Work[] = [
    ...eligible.map((d): Work => ({ id: d.id, input: { type: 'due', actor: command.actor } })),
    ...strayWork(strays, command.actor),
  ];
  let advanced = 0;
  let failed = 0;
  await runWithConcurrency(work, deps.config.tick.concurrency, async (w) => {
    try {
      await deps.executor.run(w.id, w.input);
      advanced += 1;
    } catch (error) {
      failed += 1;
      deps.log.error('could not advance a due rollout; the next tick tries again', {
        rolloutId: w.id,
        error,
      });
    }
  });
  return { due: due.length + strays.length, advanced, failed, skipped: due.length - eligible.length };
}

interface Work {
  readonly id: string;
  readonly input: Input;
}

/** One check per rollout of the route operations of it that never reported back. */
function strayWork(strays: readonly RouteOperation[], actor: string): Work[] {
  const byRollout = new Map<string, RouteOperation[]>();
  for (const op of strays) byRollout.set(op.rolloutId, [...(byRollout.get(op.rolloutId) ?? []), op]);
  return [...byRollout].map(([id, operations]) => ({
    id,
    input: { type: 'operationsPending', actor, operations },
  }));
}
