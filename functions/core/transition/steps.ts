/**
 * Moving through the plan: start, hold each step until its time is up and the evidence is in,
 * stop at manual gates, promote at the end. Weight changes go through the route policy.
 */
import type { Decision } from '../decision.ts';
import { describePause, describeProgress, describeStep } from '../describe.ts';
import { checksPassed } from '../hook-state.ts';
import { dueWindow, holdEndsAt, stepEvidenceSufficient } from '../schedule.ts';
import { describeWeights } from '../weights.ts';
import { describeProblem } from './action-required.ts';
import { type Context, commit, newIntent, pause, readFollowUp, unchanged } from './context.ts';
import { onDeadlines } from './deadlines.ts';
import { checkDue } from './hook-checks.ts';
import { gateBefore } from './hook-gates.ts';
import { changeRoute, intentDue } from './route.ts';
import { onStalled } from './stalled.ts';
import { stepDownWaiting, stepDownWhenHeld } from './step-down.ts';

/** A driver's call (`due`, or `start` for the first one): whatever the rollout has due now. */
export function onDue(c: Context): Decision {
  const r = c.r;
  const s = r.status;
  // Deadlines first (a rollback wins over anything due), then overdue work, stored before it is tried.
  const overdue = onDeadlines(c) ?? onStalled(c);
  if (overdue !== null) return overdue;
  if (s.phase === 'Pending') {
    return enterStep(c, 0, c.input === 'start' ? 'rollout started' : 'rollout picked up');
  }
  if (c.input === 'start') return unchanged(`already started (${s.phase})`);
  if (s.phase === 'ActionRequired') {
    // Nothing is retried until a person has acted: look whether the route changed.
    const check = r.intent === null ? undefined : readFollowUp(r, r.intent);
    return unchanged(`waiting for a person: ${describeProblem(s.problem)}; checking the route`, check);
  }
  if (r.intent !== null) return intentDue(c, r.intent);
  const window = dueWindow(r, c.now);
  if (window !== null) {
    return unchanged(
      `analysis window ${window.index} of ${describeProgress(r.plan, s)} is ready to measure`,
      { kind: 'measure', window },
    );
  }
  if (s.phase === 'Paused') {
    return unchanged(`paused (${describePause(s.reason)}); resume, promote or abort to continue`);
  }
  if (s.phase === 'Aborting') return stepDownWhenHeld(c, s) ?? unchanged(stepDownWaiting(r, s));
  if (s.phase !== 'Progressing') return unchanged(`${s.phase} has nothing due`);
  const atGate = r.plan.steps[s.step]?.kind === 'gate'; // resumed while a hook held the next step
  if (r.stepStartedAt === null && !atGate) return enterStep(c, s.step, 'step weights were never confirmed');
  return checkDue(c) ?? completeStep(c) ?? unchanged(waitingReason(c));
}

/**
 * The next step, when the current one has held its time with passing analysis up to its end; on
 * a gradual abort, the next step down once the lower weight has held its time. Else null.
 */
export function completeStep(c: Context, note = ''): Decision | null {
  const r = c.r;
  const s = r.status;
  if (s.phase === 'Aborting') return stepDownWhenHeld(c, s);
  // A manual gate resumed while a hook held the next step: go on to that step.
  if (s.phase === 'Progressing' && r.plan.steps[s.step]?.kind === 'gate') {
    return enterStep(c, s.step + 1, `${describeStep(r.plan, s.step)} was resumed${note}`);
  }
  const holdEnd = holdEndsAt(r);
  if (s.phase !== 'Progressing' || holdEnd === null || c.now < holdEnd || !stepEvidenceSufficient(r))
    return null;
  if (!checksPassed(r)) return null;
  return enterStep(
    c,
    s.step + 1,
    `${describeStep(r.plan, s.step)} held with passing analysis (${r.analysis.stepCanaryRequests} canary requests)${note}`,
  );
}

function waitingReason(c: Context): string {
  const r = c.r;
  const holdEnd = holdEndsAt(r);
  const parts: string[] = [];
  if (holdEnd !== null && c.now < holdEnd) parts.push(`hold ends ${new Date(holdEnd).toISOString()}`);
  if (!stepEvidenceSufficient(r)) {
    const a = r.analysis;
    parts.push(
      `needs a passing window and ${r.plan.analysis.minRequests} canary requests (have ${a.stepCanaryRequests}, last verdict ${a.last?.verdict ?? 'none'})`,
    );
  }
  if (!checksPassed(r)) parts.push('its check hooks must pass');
  return `${describeProgress(r.plan, r.status)}: ${parts.join('; ') || 'waiting'}`;
}

/** Enter plan step `index`: apply its weights, stop at a gate, promote, or finish. */
export function enterStep(c: Context, index: number, why: string, overwrite = false): Decision {
  const r = c.r;
  const step = r.plan.steps[index];
  if (step === undefined) {
    return commit(c, {
      event: 'rollout.succeeded',
      reason: `${why}; every step is done and both backends keep ${describeWeights(r.weights)}`,
      status: { phase: 'Succeeded' },
    });
  }
  // Hooks before the step (preRollout, preStep, confirmPromotion); an overwriting resume was approved already.
  const held = overwrite ? null : gateBefore(c, index, why);
  if (held !== null) return held;
  const label = describeStep(r.plan, index);
  switch (step.kind) {
    case 'gate':
      return pause(
        c,
        index,
        { kind: 'gate', note: step.note },
        'nextStep',
        `${why}; ${label} is a manual gate${step.note ? ` (${step.note})` : ''}: resume or promote to continue`,
      );
    case 'weight':
      return changeRoute(c, {
        event: 'rollout.weights_applying',
        reason: `${why}; applying ${label}: ${describeWeights(step.weights)}`,
        status: { phase: 'Progressing', step: index },
        intent: newIntent(c, 'step', step.weights, overwrite),
      });
    case 'promote':
      return promoteNow(c, why);
  }
}

export function promoteNow(c: Context, why: string): Decision {
  return changeRoute(c, {
    event: 'rollout.promoting',
    reason: `${why}; promoting: canary takes all traffic and the stable destination is removed`,
    status: { phase: 'Promoting' },
    intent: newIntent(c, 'promote', { stable: 0, canary: 100 }),
  });
}
