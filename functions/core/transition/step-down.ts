/**
 * Gradual abort: instead of snapping a warm canary's share onto a stable that may be cold (the
 * outage of argo-rollouts#3372), the canary steps down through the plan's weight steps below its
 * confirmed weight — canary at 50 with steps 10, 25, 50: 25, then 10 — each one written as an
 * intent, confirmed live by reading the route back and held for `holdMs` while analysis goes on.
 * After the lowest one the canary is taken out as by a plain abort (RollingBack, cause `abort`),
 * so `Aborted` is entered only once no rule of the route sends the canary traffic.
 *
 * Rollback still wins: an alert, a failed verdict, a plain abort or a route change that cannot be
 * made takes the canary out at once. A person's edit of the route during the step-down is not
 * overwritten by a lower weight: the canary is taken out at once (what the operator asked for).
 * `pause` holds the step-down at its weights; `resume` goes on down.
 */
import type { Decision } from '../decision.ts';
import { freshStepAnalysis } from '../schedule.ts';
import type { Rollout, RouteIntent, Status } from '../state.ts';
import { describeWeights } from '../weights.ts';
import { type Change, type Context, commit, newIntent, unchanged } from './context.ts';
import { confirmedRoutes } from './release.ts';
import { changeRoute, rollBack } from './route.ts';

type Aborting = Extract<Status, { phase: 'Aborting' }>;

/** The plan's weight steps with a canary weight above 0 and below `canary`, highest first. */
export function stepsBelow(r: Rollout, canary: number): number[] {
  const below = r.plan.steps.flatMap((step, index) =>
    step.kind === 'weight' && step.weights.canary > 0 && step.weights.canary < canary ? [index] : [],
  );
  return below.sort((a, b) => weightOf(r, b) - weightOf(r, a));
}

function weightOf(r: Rollout, index: number): number {
  const step = r.plan.steps[index];
  return step?.kind === 'weight' ? step.weights.canary : 0;
}

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10}s`;
}

/** An operator's `abort` with `gradual`: the first step down, or at once when there is none. */
export function abortGradually(c: Context, holdMsAsWritten: number, note: string): Decision {
  const r = c.r;
  const s = r.status;
  if (s.phase === 'RollingBack') return unchanged('already rolling back to stable');
  if (s.phase === 'Aborting') {
    return unchanged(
      `already stepping down (gradual abort by ${s.actor}); a plain abort takes the canary out at once`,
    );
  }
  const holdMs = Math.round(holdMsAsWritten / r.plan.timeScale);
  const asked = `gradual abort by ${c.actor}: ${note}`;
  const [next] = stepsBelow(r, r.weights.canary);
  if (next === undefined) {
    return rollBack(
      c,
      { kind: 'abort', actor: c.actor, note },
      `${asked}; the canary's ${r.weights.canary}% is at or below the plan's lowest weight step, so there is nothing to step down through: restoring stable at once`,
    );
  }
  const status: Aborting = { phase: 'Aborting', step: next, actor: c.actor, note, holdMs, held: null };
  const down = stepsBelow(r, r.weights.canary).map((i) => `${weightOf(r, i)}%`);
  return stepDownTo(
    c,
    status,
    'rollout.aborting',
    `${asked}; stepping the canary down from ${r.weights.canary}% through ${down.join(', ')} to 0%, holding each for ${seconds(holdMs)} once live`,
  );
}

function stepDownTo(c: Context, status: Aborting, event: Change['event'], why: string): Decision {
  const step = c.r.plan.steps[status.step];
  const weights = step?.kind === 'weight' ? step.weights : c.r.weights;
  return changeRoute(c, {
    event,
    reason: `${why}; applying ${describeWeights(weights)}`,
    status,
    intent: newIntent(c, 'stepDown', weights),
  });
}

/**
 * The step-down's next move once the lower weight has held its time: the next lower step, or the
 * canary out. Null while it holds (or an operator holds it).
 */
export function stepDownWhenHeld(c: Context, s: Aborting): Decision | null {
  const r = c.r;
  if (s.held !== null) return null;
  const step = r.plan.steps[s.step];
  if (r.stepStartedAt === null || step?.kind !== 'weight' || r.weights.canary !== step.weights.canary) {
    return stepDownTo(c, s, 'rollout.stepping_down', 'the step-down weights were never confirmed');
  }
  const holdEnd = r.stepStartedAt + s.holdMs;
  if (c.now < holdEnd) return null;
  const held = `${describeWeights(r.weights)} held ${seconds(s.holdMs)} on the way down (gradual abort by ${s.actor})`;
  const [next] = stepsBelow(r, r.weights.canary);
  if (next === undefined) {
    return rollBack(
      c,
      { kind: 'abort', actor: s.actor, note: s.note },
      `${held}; the last step down: taking the canary out`,
    );
  }
  return stepDownTo(c, { ...s, step: next }, 'rollout.stepping_down', `${held}; stepping down`);
}

/** What a driver is told while the step-down holds. */
export function stepDownWaiting(r: Rollout, s: Aborting): string {
  if (s.held !== null) {
    return `gradual abort held at ${describeWeights(r.weights)} by ${s.held.actor}: ${s.held.note}; resume to go on stepping down, abort to take the canary out at once`;
  }
  const holdEnd = (r.stepStartedAt ?? r.updatedAt) + s.holdMs;
  return `stepping down (gradual abort by ${s.actor}): holding ${describeWeights(r.weights)} until ${new Date(holdEnd).toISOString()}`;
}

/** An operator's command while the canary steps down. */
export function onControlWhileAborting(
  c: Context,
  s: Aborting,
  command: 'pause' | 'resume' | 'promote',
  note: string,
): Decision {
  switch (command) {
    case 'pause':
      if (s.held !== null) return unchanged('the step-down is already held');
      return commit(c, {
        event: 'rollout.paused',
        reason: `gradual abort held at ${describeWeights(c.r.weights)} by ${c.actor}: ${note}; analysis goes on, resume to go on stepping down`,
        status: { ...s, held: { actor: c.actor, note } },
      });
    case 'resume':
      if (s.held === null) return unchanged('the step-down is not held; nothing to resume');
      return commit(c, {
        event: 'rollout.resumed',
        reason: `resumed by ${c.actor}: ${note}; the canary goes on stepping down (gradual abort by ${s.actor})`,
        status: { ...s, held: null },
      });
    case 'promote':
      return unchanged(`cannot promote while stepping down for an abort (by ${s.actor}); the abort wins`);
  }
}

/** The route shows the lower weight: live; its hold starts now, with fresh analysis windows. */
export function confirmStepDown(c: Context, intent: RouteIntent, confirmed: Change, note: string): Decision {
  const s = c.r.status;
  const hold = s.phase === 'Aborting' ? ` for ${seconds(s.holdMs)}` : '';
  return commit(c, {
    ...confirmed,
    reason: `${confirmedRoutes(c.r)} confirmed at ${describeWeights(intent.weights)} on the way down; holding it${hold}${note}`,
    stepStartedAt: c.now,
    analysis: freshStepAnalysis(c.r.analysis),
  });
}

/**
 * The route shows neither the weights the step down was written over nor the lower ones: a
 * person changed it (or a forward write of the controller's that was in flight when the abort
 * came landed late). A lower weight is never written over something unexpected: the canary is
 * taken out at once (rollback wins), keeping any destination a person added.
 */
export function stepDownEdited(c: Context, s: Aborting, detail: string): Decision {
  return rollBack(
    c,
    { kind: 'abort', actor: s.actor, note: s.note },
    `the route is not where the gradual abort stepped down from (${detail}): changed by a person, or by a forward write of the controller's that landed late; not stepping down over it: taking the canary out at once`,
  );
}
