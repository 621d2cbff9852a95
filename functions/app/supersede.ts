/**
 * Busy routes at the start of a rollout (`whenRouteBusy`): whether the route is held by another
 * rollout, and — for a request that supersedes — ending the rollout that holds it through the
 * executor (the core decides how: rollback or abort), and telling about a waiting superseder the
 * new one replaced.
 */
import { rolloutLogFields } from '../core/log-fields.ts';
import type { Created } from '../core/queue.ts';
import type { RolloutRequest } from '../core/request.ts';
import type { Rollout } from '../core/state.ts';
import { primaryRoute } from '../core/targets.ts';
import type { RolloutStore } from '../ports/rollout-store.ts';
import type { LifecycleEvents } from './lifecycle-events.ts';
import type { Logger } from './log.ts';
import type { RolloutExecutor } from './rollout-executor.ts';

/** True when the request may wait for its route and another rollout holds it now. */
export async function routeBusy(store: RolloutStore, request: RolloutRequest): Promise<boolean> {
  if (request.whenRouteBusy === 'reject') return false;
  return (await store.routeQueue(primaryRoute(request))).holder !== null;
}

/**
 * A superseder waiting for its route: the rollout it supersedes is ended (rolled back or aborted,
 * as `supersedeWith` says) by feeding the core a `supersede` input. Idempotent: a rollout already
 * superseded by this one, or already finished, is not changed again.
 */
export async function endSuperseded(
  deps: { readonly executor: RolloutExecutor; readonly log: Logger },
  r: Rollout,
): Promise<void> {
  const holder = r.supersedes;
  if (r.status.phase !== 'Queued' || holder === undefined || holder === null) return;
  const actor = `supersede:${r.id}`;
  const result = await deps.executor.run(holder, {
    type: 'supersede',
    by: r.id,
    with: r.spec.supersedeWith,
    actor,
  });
  deps.log.info(`superseding ${holder}`, {
    rolloutId: r.id,
    holder,
    phase: result?.rollout.status.phase ?? null,
    reason: result?.reason ?? null,
  });
}

/** An older superseder ended (Aborted) in the commit that created a newer one. */
export async function publishDisplaced(
  deps: { readonly events: LifecycleEvents; readonly log: Logger },
  displaced: Created,
): Promise<void> {
  const { rollout, entry } = displaced;
  deps.log.notice(entry.reason, {
    rolloutId: rollout.id,
    event: entry.event,
    actor: entry.actor,
    rollout: rolloutLogFields(rollout, entry),
  });
  await deps.events.publish(rollout, entry);
}
