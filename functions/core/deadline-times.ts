/**
 * When the progress deadlines of a rollout fall due (transition/deadlines.ts acts on them): the
 * rollout's `deadline`, counted from its creation, and `gateTimeout`, counted from when the
 * current pause began. A deadline already acted on is not due again: its rollback or abort moved
 * the rollout to RollingBack; its notification is recorded (once for the deadline, once per pause).
 */
import type { DeadlinePlan } from './plan.ts';
import { isTerminal, type Rollout, type Status } from './state.ts';

/** Rolling back already (possibly waiting for a person to let it): a deadline has nothing to add. */
export function rollingBack(s: Status): boolean {
  return s.phase === 'RollingBack' || (s.phase === 'ActionRequired' && s.resume.phase === 'RollingBack');
}

/** When the pause the rollout is in began (also while a person must fix the route of a paused one). */
export function pausedSince(s: Status): number | null {
  const paused = s.phase === 'ActionRequired' ? s.resume : s;
  return paused.phase === 'Paused' ? (paused.since ?? null) : null;
}

function open(r: Rollout, plan: DeadlinePlan | null | undefined): plan is DeadlinePlan {
  return plan !== null && plan !== undefined && !isTerminal(r.status.phase) && !rollingBack(r.status);
}

/** When the rollout's deadline falls due, if it is still to be acted on. */
export function deadlineDueAt(r: Rollout): number | null {
  const plan = r.plan.deadline;
  if (!open(r, plan) || (r.deadlines?.deadlinePassedAt ?? null) !== null) return null;
  return r.createdAt + plan.afterMs;
}

/** When the current pause times out, if it is still to be acted on. */
export function gateTimeoutDueAt(r: Rollout): number | null {
  const plan = r.plan.gateTimeout;
  const since = pausedSince(r.status);
  if (!open(r, plan) || since === null || r.deadlines?.gateTimedOutFor === since) return null;
  return since + plan.afterMs;
}

/** The earliest deadline still to be acted on: drivers must come by then. */
export function deadlineWakeAt(r: Rollout): number | null {
  return earliest(deadlineDueAt(r), gateTimeoutDueAt(r));
}

export function earliest(a: number | null, b: number | null): number | null {
  if (a === null) return b;
  return b === null ? a : Math.min(a, b);
}

/** "17 min", "45 s": how long, for people. */
export function describeSpan(ms: number): string {
  return ms >= 120_000 ? `${Math.round(ms / 60_000)} min` : `${Math.round(ms / 1000)} s`;
}
