/**
 * Hooks that hold the rollout before a step (docs/hooks.md#when-each-hook-is-called):
 * preRollout before any traffic moves (a failure ends the rollout Failed, the route untouched),
 * preStep before each weight step and confirmPromotion before the promotion (until they pass the
 * rollout keeps its weights and calls again with backoff; past a hook's failAfter, its onFailure).
 * The calls are made by the driver between decisions (a `callHooks` follow-up); their results
 * come back as `hooksCalled`.
 */
import type { Decision, FollowUp } from '../decision.ts';
import { describeStep } from '../describe.ts';
import {
  freshGate,
  type GatePoint,
  gatePassed,
  gatePointOf,
  type HookGate,
  type HookState,
  hookBackoffMs,
  hooksAt,
  NO_HOOK_STATE,
  pendingHooks,
} from '../hook-state.ts';
import type { HookResult, PlanHook } from '../hooks.ts';
import type { Rollout } from '../state.ts';
import { ALL_CANARY, describeWeights, type Weights } from '../weights.ts';
import { type Context, commit, pause, unchanged } from './context.ts';
import { describeResults, failureOf, notPassed } from './hook-describe.ts';
import { rollBack } from './route.ts';

export function hookStateOf(r: Rollout): HookState {
  return r.hookState ?? NO_HOOK_STATE;
}

/** The gate before plan step `index` the rollout must pass first, or null when none holds it. */
function gateAt(r: Rollout, index: number): GatePoint | null {
  if (index === 0 && hooksAt(r.plan, 'preRollout').length > 0 && !hookStateOf(r).preRolloutPassed) {
    return 'preRollout';
  }
  const point = gatePointOf(r.plan, index);
  if (point === null) return null;
  const gate = storedGate(r, point, index);
  return gate !== null && gatePassed(r.plan, gate) ? null : point;
}

function storedGate(r: Rollout, point: GatePoint, index: number): HookGate | null {
  const gate = hookStateOf(r).gate;
  return gate !== null && gate.point === point && gate.step === index ? gate : null;
}

function nextWeights(r: Rollout, point: GatePoint, index: number): Weights | null {
  const step = r.plan.steps[index];
  if (point === 'preRollout' || step === undefined || step.kind === 'gate') return null;
  return step.kind === 'promote' ? ALL_CANARY : step.weights;
}

function callFollowUp(r: Rollout, point: GatePoint, index: number, hooks: readonly PlanHook[]): FollowUp {
  return { kind: 'callHooks', point, step: index, hooks, nextWeights: nextWeights(r, point, index) };
}

/**
 * Before plan step `index` is entered: the call the rollout waits for, or null when it may go
 * ahead. A paused rollout being resumed records the resume first (it holds as Progressing).
 */
export function gateBefore(c: Context, index: number, why: string): Decision | null {
  const r = c.r;
  const point = gateAt(r, index);
  if (point === null) return null;
  const gate = storedGate(r, point, index);
  const hooks = gate === null ? hooksAt(r.plan, point) : pendingHooks(r.plan, gate);
  const names = hooks.map((h) => h.name).join(', ');
  const before = describeStep(r.plan, index);
  const s = r.status;
  if (s.phase === 'Paused') {
    const holding = index === s.step ? null : r.stepStartedAt;
    return commit(c, {
      event: 'rollout.resumed',
      reason: `${why}; calling ${point} hooks (${names}) before ${before}`,
      status: { phase: 'Progressing', step: index === s.step ? index : s.step },
      stepStartedAt: holding,
      hookState: { ...hookStateOf(r), gate: null },
      followUp: callFollowUp(r, point, index, hooks),
    });
  }
  if (gate?.nextCallAt != null && c.now < gate.nextCallAt) {
    const at = new Date(gate.nextCallAt).toISOString();
    return unchanged(
      `${why}; holding before ${before}: ${point} hooks (${names}) have not passed; calling again at ${at}`,
    );
  }
  return unchanged(
    `${why}; calling ${point} hooks (${names}) before ${before}`,
    callFollowUp(r, point, index, hooks),
  );
}

/** Why results of a gate's calls no longer apply (the rollout moved on meanwhile), or null. */
function gateStale(r: Rollout, point: GatePoint, index: number): string | null {
  const s = r.status;
  const waiting =
    r.intent === null &&
    gateAt(r, index) === point &&
    ((s.phase === 'Pending' && index === 0) ||
      (s.phase === 'Progressing' &&
        (s.step === index - 1 || (s.step === index && r.stepStartedAt === null))));
  return waiting
    ? null
    : `${point} hook results for ${describeStep(r.plan, index)} came after the rollout moved on (${s.phase}); ignored`;
}

export function onGateCalled(
  c: Context,
  point: GatePoint,
  index: number,
  results: readonly HookResult[],
): Decision {
  const r = c.r;
  const stale = gateStale(r, point, index);
  if (stale !== null) return unchanged(stale);
  const before = describeStep(r.plan, index);
  if (point === 'preRollout' && results.some(notPassed)) return failStart(c, results);
  const gate = afterRound(c, storedGate(r, point, index) ?? freshGate(point, index, null), results);
  const state = hookStateOf(r);
  if (gatePassed(r.plan, gate)) {
    return commit(c, {
      event: 'rollout.hook_passed',
      reason: `${point} hooks passed before ${before}: ${describeResults(results)}`,
      hooks: results,
      hookState: { ...state, gate, preRolloutPassed: state.preRolloutPassed || point === 'preRollout' },
    });
  }
  const overdue = results.filter(
    (x) => notPassed(x) && c.now - (gate.failingSince[x.hook] ?? c.now) >= failAfterOf(r, point, x),
  );
  if (overdue.length > 0) return giveUp(c, point, index, overdue, results);
  const at = gate.nextCallAt ?? c.now;
  return commit(c, {
    event: 'rollout.hook_failed',
    reason: `${point} hooks did not pass before ${before} (${describeResults(results)}); holding ${describeWeights(r.weights)} and calling again in ${Math.round((at - c.now) / 1000)}s`,
    hooks: results,
    hookState: { ...state, gate },
  });
}

function failAfterOf(r: Rollout, point: GatePoint, result: HookResult): number {
  return hooksAt(r.plan, point).find((h) => h.name === result.hook)?.failAfterMs ?? 0;
}

/** The gate after a round of calls: who passed, since when the others fail, when to call again. */
function afterRound(c: Context, gate: HookGate, results: readonly HookResult[]): HookGate {
  const passed = [...gate.passed, ...results.filter((x) => !notPassed(x)).map((x) => x.hook)];
  const failingSince = { ...gate.failingSince };
  for (const x of results.filter(notPassed)) failingSince[x.hook] ??= c.now;
  const failures = { ...gate.failures };
  for (const x of results.filter((y) => y.status === 'failed'))
    failures[x.hook] = (failures[x.hook] ?? 0) + 1;
  const round = { ...gate, passed, failingSince, failures };
  if (!results.some(notPassed)) return round;
  const attempts = gate.attempts + 1;
  return { ...round, attempts, nextCallAt: c.now + hookBackoffMs(c.r.plan, attempts) };
}

/** A preRollout hook did not pass: the rollout ends Failed before any traffic moved. */
function failStart(c: Context, results: readonly HookResult[]): Decision {
  const failed = results.filter(notPassed);
  const error = `preRollout hook ${failed.map(failureOf).join('; ')}`;
  return commit(c, {
    event: 'rollout.failed',
    reason: `${error}; the route was not touched`,
    status: { phase: 'Failed', error },
    hooks: results,
  });
}

/** Past failAfter: the hook's onFailure (rollback wins when several hooks give up at once). */
function giveUp(
  c: Context,
  point: GatePoint,
  index: number,
  overdue: readonly HookResult[],
  results: readonly HookResult[],
): Decision {
  const r = c.r;
  const spec = (x: HookResult) => hooksAt(r.plan, point).find((h) => h.name === x.hook);
  const worst = overdue.find((x) => spec(x)?.onFailure === 'rollback') ?? overdue[0];
  if (worst === undefined) return unchanged('no hook gave up');
  const detail = failureOf(worst);
  const hookState = { ...hookStateOf(r), gate: null };
  const what = `${point} hook ${detail}, still not passed ${Math.round((spec(worst)?.failAfterMs ?? 0) / 1000)}s after it first failed`;
  if (spec(worst)?.onFailure === 'rollback') {
    const cause = { kind: 'hook', point, hook: worst.hook, status: worst.status, summary: detail } as const;
    return rollBack(c, cause, `${what}; rolling back`, { hooks: results, hookState });
  }
  const s = r.status;
  const here = s.phase === 'Pending' || (s.phase === 'Progressing' && s.step === index);
  const step = here || s.phase !== 'Progressing' ? index : s.step;
  const reason = { kind: 'hook', point, hook: worst.hook, status: worst.status, detail } as const;
  const why = `${what}; paused before ${describeStep(r.plan, index)}: fix it and resume (calls it again), promote or abort`;
  return pause(c, step, reason, here ? 'applyStep' : 'nextStep', why, { hooks: results, hookState });
}
