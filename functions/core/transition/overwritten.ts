/**
 * Someone else's change to a route's rules that a write of ours overwrote: found through the
 * API's operations, never dropped — kept (with the route before the write) on a history entry so
 * it can be restored by hand.
 */
import type { Decision } from '../decision.ts';
import type { Input } from '../inputs.ts';
import type { RouteSnapshot } from '../routing/snapshot.ts';
import type { HistoryEntry, Rollout, RouteIntent } from '../state.ts';
import { describeWeights } from '../weights.ts';
import { type Context, commit } from './context.ts';
import { routeAt, severalTargets } from './release.ts';

/** A route observation as the core receives it (the input without its type and actor). */
export type Observed = Omit<Extract<Input, { type: 'routeObserved' }>, 'type' | 'actor'>;

/** Someone else's change to the rules that a write of ours overwrote: the latest, with the route before. */
export interface Overwritten {
  readonly before: RouteSnapshot;
  readonly overwritten: RouteSnapshot;
  readonly operation: string;
}

/**
 * A write replaces all rules, so another writer's change to them that ended while the write was
 * in flight is gone — unless it was the same change. Found through the API's operations.
 */
export function overwrittenBy(observed: Observed): Overwritten | null {
  const before = observed.before;
  if (!observed.written || before === undefined) return null;
  const rules = (s: RouteSnapshot) => JSON.stringify(s.rules);
  const lost = (observed.concurrent ?? []).filter(
    (w) => w.route !== null && rules(w.route) !== rules(before) && rules(w.route) !== rules(observed.route),
  );
  const last = lost.at(-1);
  return last?.route ? { before, overwritten: last.route, operation: last.operation } : null;
}

/** The history entry's `route`: what was overwritten, on which target (named in a release of several). */
export function overwrittenRecord(
  r: Rollout,
  lost: Overwritten,
  target: number,
): NonNullable<HistoryEntry['route']> {
  return {
    before: lost.before,
    overwritten: lost.overwritten,
    ...(severalTargets(r) ? { target: routeAt(r, target) } : {}),
  };
}

export function describeOverwritten(lost: Overwritten): string {
  return `a change someone else made to the route's rules (operation ${lost.operation}) ended while the controller's write was in flight and was overwritten by it; the route as they left it and as read before the write are kept in this history entry (route.overwritten, route.before)`;
}

/**
 * Whatever was decided, a change of someone else's that a write of ours overwrote is never
 * dropped: it rides on the decision's history entry, or gets one of its own.
 */
export function keepOverwritten(
  c: Context,
  decision: Decision,
  by: RouteIntent,
  lost: Overwritten | null,
  target: number,
): Decision {
  if (lost === null) return decision;
  if (decision.kind === 'unchanged') return recordOverwritten(c, by, lost, target);
  if (decision.entry.route) return decision;
  const route = overwrittenRecord(c.r, lost, target);
  return {
    ...decision,
    entry: { ...decision.entry, reason: `${decision.entry.reason}; ${describeOverwritten(lost)}`, route },
  };
}

/** A write of an earlier change overwrote someone's edit: recorded (with the route) even so. */
function recordOverwritten(c: Context, by: RouteIntent, lost: Overwritten, target: number): Decision {
  return commit(c, {
    event: 'rollout.edit_overwritten',
    reason: `${describeOverwritten(lost)} (the write of change #${by.id}, ${describeWeights(by.weights)}); restore their change by hand`,
    route: overwrittenRecord(c.r, lost, target),
  });
}
