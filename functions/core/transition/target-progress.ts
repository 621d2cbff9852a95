/**
 * One target of a release of several routes shows the intent's weights while others remain: the
 * progress is committed (the target added to `intent.done`, its rule hint stored, the lease
 * renewed, attempts counted afresh) and the next target is written. A crash after this commit
 * resumes at the next target; one before it reads this target again and confirms it without a
 * second write. Nothing is live until the last target is confirmed (observe.ts).
 */
import type { Decision } from '../decision.ts';
import type { RouteIntent } from '../state.ts';
import { describeWeights } from '../weights.ts';
import { type Context, commit, pause } from './context.ts';
import { describeOverwritten, type Overwritten, overwrittenRecord } from './overwritten.ts';
import { currentTarget, routeAt, targetCount } from './release.ts';
import { writeFollowUp } from './route.ts';

/** Where target `at`'s managed rule was found on the read that confirmed it. */
interface Seen {
  readonly index: number;
  readonly shape: string;
}

export function confirmTarget(
  c: Context,
  intent: RouteIntent,
  at: number,
  seen: Seen,
  lost: Overwritten | null,
  note: string,
): Decision {
  const done = [...(intent.done ?? []), at];
  const shown = `route ${routeAt(c.r, at)} confirmed at ${describeWeights(intent.weights)} (${done.length} of ${targetCount(c.r)} targets)`;
  const rule = { index: seen.index, shape: seen.shape, target: at };
  if (lost !== null && intent.purpose === 'step') return pauseOverwritten(c, shown, rule, lost, at);
  const progressed: RouteIntent = {
    ...intent,
    done,
    attempts: 1,
    lastError: null,
    leaseUntil: c.now + c.r.plan.timing.leaseMs,
  };
  return commit(c, {
    event: 'rollout.weights_applying',
    reason: `${shown}; writing ${routeAt(c.r, currentTarget(c.r, progressed))}${note}`,
    intent: progressed,
    rule,
    ...(lost === null ? {} : { route: overwrittenRecord(c.r, lost, at) }),
    followUp: writeFollowUp(c.r, progressed),
  });
}

/**
 * A person's change to this target was lost to our write: stop before the next target (the step
 * is not live anywhere else yet) so they can restore it; resuming applies the step to every
 * target again (this one already shows it).
 */
function pauseOverwritten(
  c: Context,
  shown: string,
  rule: Seen & { readonly target: number },
  lost: Overwritten,
  at: number,
): Decision {
  const s = c.r.status;
  const step = s.phase === 'Progressing' || s.phase === 'Paused' ? s.step : 0;
  const detail = `route ${routeAt(c.r, at)}: ${describeOverwritten(lost)}`;
  return pause(
    c,
    step,
    { kind: 'drift', detail },
    'applyStep',
    `${shown}, but ${describeOverwritten(lost)}; paused before the remaining routes: restore their change, then resume`,
    { intent: null, rule, route: overwrittenRecord(c.r, lost, at) },
  );
}
