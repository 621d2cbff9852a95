/**
 * What hook calls came to (`hooksCalled`): gates (preRollout, preStep, confirmPromotion) and
 * checks decide; notifications (onRollback, postRollout) are recorded and change nothing — also
 * on a terminal rollout, whose phase they keep.
 */
import type { Decision } from '../decision.ts';
import type { NotifyPoint } from '../hook-state.ts';
import type { HookResult } from '../hooks.ts';
import type { Input } from '../inputs.ts';
import { isTerminal } from '../state.ts';
import { type Context, commit, unchanged } from './context.ts';
import { onChecksCalled } from './hook-checks.ts';
import { describeResults } from './hook-describe.ts';
import { onGateCalled } from './hook-gates.ts';

export function onHooksCalled(c: Context, input: Extract<Input, { type: 'hooksCalled' }>): Decision {
  const { point, step, results } = input;
  switch (point) {
    case 'onRollback':
    case 'postRollout':
      return onNotified(c, point, results);
    default:
      if (isTerminal(c.r.status.phase)) {
        return unchanged(`${point} hook results came after the rollout ended (${c.r.status.phase}); ignored`);
      }
      if (step === null) return unchanged(`${point} hook results name no step; ignored`);
      return point === 'check' ? onChecksCalled(c, step, results) : onGateCalled(c, point, step, results);
  }
}

function onNotified(c: Context, point: NotifyPoint, results: readonly HookResult[]): Decision {
  if (results.length === 0) return unchanged(`no ${point} hooks were called`);
  return commit(c, {
    event: 'rollout.hook_notified',
    reason: `${point} notification: ${describeResults(results)}; a notification changes nothing (the rollout stays ${c.r.status.phase})`,
    hooks: results,
  });
}
