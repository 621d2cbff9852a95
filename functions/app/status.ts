/**
 * What operators read: one rollout with its history, or the active rollouts (one per locked
 * route); a Queued rollout with its place in its route's queue. Used by controlHttp and rolloutctl alike.
 */
import type { HistoryEntry, Rollout } from '../core/state.ts';
import { primaryRoute } from '../core/targets.ts';
import { RefusedError } from '../errors.ts';
import type { ActiveRollout, RolloutStore } from '../ports/rollout-store.ts';

export interface StatusDeps {
  readonly store: RolloutStore;
}

/** Where a Queued rollout stands in its route's queue. */
export interface QueueStanding {
  /** 1 = next to take the route; null if it is no longer listed (its turn is being handed over). */
  readonly position: number | null;
  /** The route's active rollout it waits for (null: the route is free). */
  readonly holder: string | null;
  /** The rollouts ahead of it in the queue, first in line first. */
  readonly ahead: readonly string[];
}

export interface RolloutStatus {
  readonly rollout: Rollout;
  readonly history: HistoryEntry[];
  /** Only for a Queued rollout. */
  readonly queue?: QueueStanding;
}

/** Throws RefusedError ROLLOUT_NOT_FOUND when there is no such rollout. */
export async function rolloutStatus(
  deps: StatusDeps,
  command: { readonly rolloutId: string },
): Promise<RolloutStatus> {
  const rollout = await deps.store.get(command.rolloutId);
  if (rollout === null) throw rolloutNotFound(command.rolloutId);
  const history = await deps.store.history(command.rolloutId);
  if (rollout.status.phase !== 'Queued') return { rollout, history };
  return { rollout, history, queue: await queueStanding(deps.store, rollout) };
}

async function queueStanding(store: RolloutStore, r: Rollout): Promise<QueueStanding> {
  const queue = await store.routeQueue(primaryRoute(r.spec));
  const index = queue.waiting.findIndex((w) => w.rolloutId === r.id);
  const ahead = index < 0 ? [] : queue.waiting.slice(0, index).map((w) => w.rolloutId);
  return { position: index < 0 ? null : index + 1, holder: queue.holder, ahead };
}

/** "number 3 in line for the route, behind checkout-7 (active) and 2 queued rollouts". */
export function describeStanding(q: QueueStanding): string {
  if (q.position === null) return 'its turn is being handed over';
  const others =
    q.ahead.length === 0 ? '' : ` and ${q.ahead.length} queued rollout(s) (${q.ahead.join(', ')})`;
  return `number ${q.position} in line for the route, waiting for ${q.holder ?? 'nothing (the route is free)'}${others}`;
}

export async function activeRollouts(deps: StatusDeps): Promise<{ active: ActiveRollout[] }> {
  return { active: await deps.store.findActive({}) };
}

export function rolloutNotFound(id: string): RefusedError {
  return new RefusedError(`no rollout ${id}`, {
    code: 'ROLLOUT_NOT_FOUND',
    hint: 'check the rollout id (rolloutctl list)',
  });
}
