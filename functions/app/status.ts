/**
 * What operators read: one rollout with its history, or the active rollouts (one per locked
 * route); a Queued rollout with its place in its route's queue. Used by controlHttp and rolloutctl alike.
 */
import type { HistoryEntry, Rollout } from '../core/state.ts';
import { kindName, primaryRoute, targetsOf } from '../core/targets.ts';
import { describeWeights, type Weights } from '../core/weights.ts';
import { RefusedError } from '../errors.ts';
import type { ActiveRollout, RolloutStore } from '../ports/rollout-store.ts';
import { requireRolloutId } from './ids.ts';

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

/** One route of a release as the controller last confirmed it. */
export interface TargetStatus {
  readonly route: string;
  /** HTTPRoute, GRPCRoute, TCPRoute or TLSRoute. */
  readonly kind: string;
  /** The split last confirmed on this route (read back after a write, or read). */
  readonly weights: Weights;
  /** The split a change in flight is writing to this route; null when the route already shows it. */
  readonly writing: Weights | null;
}

export interface RolloutStatus {
  readonly rollout: Rollout;
  readonly history: HistoryEntry[];
  /** Every route of the release, in the request's order. */
  readonly targets: readonly TargetStatus[];
  /** Only for a Queued rollout. */
  readonly queue?: QueueStanding;
}

/** Throws RefusedError ROLLOUT_NOT_FOUND when there is no such rollout. */
export async function rolloutStatus(
  deps: StatusDeps,
  command: { readonly rolloutId: string },
): Promise<RolloutStatus> {
  requireRolloutId(command.rolloutId);
  const rollout = await deps.store.get(command.rolloutId);
  if (rollout === null) throw rolloutNotFound(command.rolloutId);
  const history = await deps.store.history(command.rolloutId);
  const targets = targetStatuses(rollout);
  if (rollout.status.phase !== 'Queued') return { rollout, history, targets };
  return { rollout, history, targets, queue: await queueStanding(deps.store, rollout) };
}

/**
 * Each route of the release with its split as confirmed: a change in flight is confirmed on the
 * targets it lists as done (they show its weights) and still being written to the others (they
 * show the rollout's confirmed weights).
 */
export function targetStatuses(r: Rollout): TargetStatus[] {
  const intent = r.intent;
  return targetsOf(r.spec).map((t, i) => {
    const done = intent !== null && (intent.done ?? []).includes(i);
    return {
      route: t.route,
      kind: kindName(t.kind),
      weights: done && intent !== null ? intent.weights : r.weights,
      writing: intent === null || done ? null : intent.weights,
    };
  });
}

/** "GRPCRoute projects/…/grpcRoutes/shop  stable 90% / canary 10% (writing stable 70% / canary 30%)". */
export function describeTarget(t: TargetStatus): string {
  const writing = t.writing === null ? '' : ` (writing ${describeWeights(t.writing)})`;
  return `${t.kind} ${t.route}  ${describeWeights(t.weights)}${writing}`;
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
