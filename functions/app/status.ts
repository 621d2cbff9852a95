/**
 * What operators read: one rollout with its history, or the active rollouts (one per locked
 * route). Used by controlHttp and rolloutctl alike.
 */
import type { HistoryEntry, Rollout } from '../core/state.ts';
import { RefusedError } from '../errors.ts';
import type { ActiveRollout, RolloutStore } from '../ports/rollout-store.ts';

export interface StatusDeps {
  readonly store: RolloutStore;
}

export interface RolloutStatus {
  readonly rollout: Rollout;
  readonly history: HistoryEntry[];
}

/** Throws RefusedError ROLLOUT_NOT_FOUND when there is no such rollout. */
export async function rolloutStatus(
  deps: StatusDeps,
  command: { readonly rolloutId: string },
): Promise<RolloutStatus> {
  const rollout = await deps.store.get(command.rolloutId);
  if (rollout === null) throw rolloutNotFound(command.rolloutId);
  return { rollout, history: await deps.store.history(command.rolloutId) };
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
