/**
 * Notification hooks: onRollback when a rollback starts, postRollout when a terminal phase is
 * reached. Every change passes through `withNotify`, so no path into a rollback or an end is
 * missed; the calls ride on the decision (`notify`) and the executor starts them alongside the
 * follow-up — a rollback's route write never waits for them.
 */
import type { Decision } from '../decision.ts';
import { hooksAt, type NotifyPoint } from '../hook-state.ts';
import { isTerminal, type Rollout, type Status } from '../state.ts';

function rollingBack(s: Status): boolean {
  return s.phase === 'RollingBack' || (s.phase === 'ActionRequired' && s.resume.phase === 'RollingBack');
}

/** The notification a change from `before` to `after` calls for, if any. */
export function notifyPoint(before: Rollout, after: Rollout): NotifyPoint | null {
  if (isTerminal(after.status.phase)) return isTerminal(before.status.phase) ? null : 'postRollout';
  if (after.status.phase === 'RollingBack' && !rollingBack(before.status)) return 'onRollback';
  return null;
}

export function withNotify(before: Rollout, decision: Extract<Decision, { kind: 'changed' }>): Decision {
  const point = notifyPoint(before, decision.rollout);
  if (point === null) return decision;
  const hooks = hooksAt(decision.rollout.plan, point);
  return hooks.length === 0 ? decision : { ...decision, notify: { point, hooks } };
}
