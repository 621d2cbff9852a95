/**
 * tick (Cloud Scheduler, every minute): hands out every rollout that is due, every rollout
 * waiting for a person (a look at its route tells whether one acted), and the route operations
 * nobody reported back on (their driver died) — one message each on the advance topic, which
 * advanceDue instances take in parallel. It pages through every due rollout, publishing as it
 * goes; each message carries the rollout as the query read it, so advancing it reads nothing more.
 * Scheduler-driven rollouts move here; workflow-driven ones only when their workflow is overdue
 * by the grace period (the execution died or is stuck) — the safety net. It also drains the
 * outbox: lifecycle events whose publish after their commit was lost are re-sent (outbox.ts).
 */
import type { Rollout, RouteOperation } from '../core/state.ts';
import type { EventPublisher } from '../ports/event-publisher.ts';
import type { Page, PageCursor, RolloutStore } from '../ports/rollout-store.ts';
import type { Config } from './config.ts';
import { eligibleForTick, FanOut, planDue, planOperations } from './fan-out.ts';
import type { Lazy, LifecycleEvents } from './lifecycle-events.ts';
import type { Logger } from './log.ts';
import { drainOutbox } from './outbox.ts';

export interface TickReport {
  /** Rollouts (and rollouts with stray operations) found, each (rollout, version) counted once. */
  readonly due: number;
  readonly published: number;
  readonly failed: number;
  /** Workflow-driven rollouts left to their workflow (not yet overdue). */
  readonly skipped: number;
}

export interface TickDeps {
  readonly store: RolloutStore;
  readonly publisher: Lazy<EventPublisher>;
  /** Re-sends the outbox's lost lifecycle events. */
  readonly events: LifecycleEvents;
  readonly config: Config;
  readonly clock: () => number;
  readonly log: Logger;
}

/** Calls `handle` on every page `fetch` returns, fetching the next page while handling this one. */
export async function eachPage<T>(
  fetch: (after: PageCursor | null) => Promise<Page<T>>,
  handle: (items: readonly T[]) => Promise<void>,
): Promise<void> {
  let page = await fetch(null);
  for (;;) {
    const [, next] = await Promise.all([
      handle(page.items),
      page.next === null ? Promise.resolve(null) : fetch(page.next),
    ]);
    if (next === null) return;
    page = next;
  }
}

export async function tick(deps: TickDeps, command: { readonly actor: string }): Promise<TickReport> {
  const now = deps.clock();
  const { batch, workflowGraceMs } = deps.config.tick;
  const fanOut = new FanOut({ publisher: deps.publisher, topic: deps.config.advanceTopic, log: deps.log });
  const seen = new Set<string>();
  let found = 0;
  let skipped = 0;
  const handOut = (since: (r: Rollout) => number) => async (rollouts: readonly Rollout[]) => {
    const plan = planDue(
      rollouts,
      (r) => eligibleForTick(r, since(r), now, workflowGraceMs),
      seen,
      command.actor,
    );
    found += rollouts.length - plan.repeated;
    skipped += plan.skipped;
    await fanOut.publish(plan.messages);
  };
  const strays: RouteOperation[] = [];
  // Operations nobody reported back on for longer than a driver may own one.
  const strayBefore = now - deps.config.route.leaseMs - deps.config.route.operationTimeoutMs;
  await settleAll([
    eachPage(
      (after) => deps.store.due(now, batch, after),
      handOut((r) => r.nextActionAt ?? now),
    ),
    // A waiting rollout's `since` is when it began to wait.
    eachPage(
      (after) => deps.store.waiting(batch, after),
      handOut((r) => r.updatedAt),
    ),
    eachPage(
      (after) => deps.store.strayOperations(strayBefore, batch, after),
      async (ops) => {
        strays.push(...ops);
      },
    ),
    drain(deps, now),
  ]);
  const operations = planOperations(strays, seen, command.actor);
  found += operations.messages.length;
  await fanOut.publish(operations.messages);
  return { due: found, published: fanOut.published, failed: fanOut.failed, skipped };
}

/** The outbox drain; its failure is logged (the next tick drains again), never fails the fan-out. */
async function drain(deps: TickDeps, now: number): Promise<void> {
  try {
    await drainOutbox(deps, now);
  } catch (error) {
    deps.log.error('outbox drain failed; the next tick tries again', { error });
  }
}

/** Waits for every listing to end (none left running in the background), then throws the first failure. */
async function settleAll(work: readonly Promise<void>[]): Promise<void> {
  const outcomes = await Promise.allSettled(work);
  const failure = outcomes.find((o) => o.status === 'rejected');
  if (failure !== undefined) throw failure.reason;
}
