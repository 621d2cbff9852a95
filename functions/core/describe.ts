/**
 * How the rollout is described to people — history reasons, lifecycle events, `rolloutctl` and
 * the demo all say "step N of M" the same way: N is 1-based and M counts the steps a person
 * wrote (the promotion the controller adds is "promotion", not a step).
 */
import { authoredStepCount, type Plan } from './plan.ts';
import type { PauseReason, Status } from './state.ts';

export interface StepPosition {
  /** 1-based among the authored steps; null for the added promotion. */
  readonly number: number | null;
  readonly total: number;
}

export function stepPosition(plan: Plan, index: number): StepPosition {
  const total = authoredStepCount(plan);
  return { number: plan.steps[index]?.kind === 'promote' ? null : index + 1, total };
}

/** "step 2 of 3", or "promotion" for the final step the controller adds. */
export function describeStep(plan: Plan, index: number): string {
  const { number, total } = stepPosition(plan, index);
  return number === null ? 'promotion' : `step ${number} of ${total}`;
}

/** The step when the status has one, else the phase: "step 2 of 3", "Promoting". */
export function describeProgress(plan: Plan, status: Status): string {
  return status.phase === 'Progressing' || status.phase === 'Paused'
    ? describeStep(plan, status.step)
    : status.phase;
}

export function describePause(reason: PauseReason): string {
  switch (reason.kind) {
    case 'operator':
      return `by ${reason.actor}: ${reason.note}`;
    case 'gate':
      return `manual gate${reason.note ? `: ${reason.note}` : ''}`;
    case 'inconclusive':
      return `${reason.windows} inconclusive analysis windows in a row`;
    case 'notEnoughTraffic':
      return `not enough traffic to judge: ${reason.canaryRequests} canary requests in ${Math.round(reason.forMs / 60_000)} min, ${reason.needed} needed`;
    case 'splitNotLive':
      return `the metrics showed another split than the route's for ${reason.windows} windows (${reason.detail})`;
    case 'drift':
      return `route edited outside the controller: ${reason.detail}`;
    case 'hook':
      return `${reason.point} hook ${reason.hook} did not pass (${reason.status}): ${reason.detail}`;
  }
}
