/**
 * Where a rollout's hook calls stand, stored on the rollout so every driver decides the same:
 * whether preRollout passed, the gate the rollout holds at (preStep or confirmPromotion before a
 * step), and the current step's check hooks. Pure helpers; the transitions are in
 * transition/hook-gates.ts and transition/hook-checks.ts.
 */
import type { HookPoint, PlanHook } from './hooks.ts';
import type { Plan } from './plan.ts';
import type { Rollout } from './state.ts';

/** Points whose hooks hold the rollout until they pass. */
export type GatePoint = 'preRollout' | 'preStep' | 'confirmPromotion';
/** Points whose hooks are notifications: their results change nothing. */
export type NotifyPoint = 'onRollback' | 'postRollout';

/** The calls of one point for one plan step. */
export interface HookGate {
  readonly point: GatePoint | 'check';
  /** Plan step index the calls are about (preStep: the step about to start). */
  readonly step: number;
  /** check: when the step's weights were confirmed (a step applied again starts afresh); else null. */
  readonly stepStartedAt: number | null;
  /** Hooks that passed here; they are not called again. */
  readonly passed: readonly string[];
  /** preStep, confirmPromotion: when each hook first did not pass (failAfter counts from it). */
  readonly failingSince: { readonly [hook: string]: number };
  /** check: `failed` results per hook in this step (its failureLimit). */
  readonly failures: { readonly [hook: string]: number };
  /** Rounds of calls that did not all pass (the backoff grows with it). */
  readonly attempts: number;
  /** When to call again after a round that did not pass; null: now. */
  readonly nextCallAt: number | null;
}

export interface HookState {
  /** The preRollout hooks all passed (or there are none): traffic may move. */
  readonly preRolloutPassed: boolean;
  /** preRollout, preStep or confirmPromotion calls before a step. */
  readonly gate: HookGate | null;
  /** The check hooks of the current step. */
  readonly checks: HookGate | null;
}

export const NO_HOOK_STATE: HookState = { preRolloutPassed: false, gate: null, checks: null };

/** Backoff between rounds of calls that did not pass: 10 s doubling to 2 min, in plan time. */
export const HOOK_BACKOFF_BASE_MS = 10_000;
export const HOOK_BACKOFF_MAX_MS = 120_000;

export function hookBackoffMs(plan: Plan, attempts: number): number {
  const real = Math.min(HOOK_BACKOFF_MAX_MS, HOOK_BACKOFF_BASE_MS * 2 ** Math.max(0, attempts - 1));
  return Math.round(real / plan.timeScale);
}

/** The hooks a rollout calls at a point (none for rollouts stored without hooks). */
export function hooksAt(plan: Plan, point: HookPoint): readonly PlanHook[] {
  return plan.hooks?.[point] ?? [];
}

export function freshGate(point: HookGate['point'], step: number, stepStartedAt: number | null): HookGate {
  return {
    point,
    step,
    stepStartedAt,
    passed: [],
    failingSince: {},
    failures: {},
    attempts: 0,
    nextCallAt: null,
  };
}

/** The hooks of the gate not yet passed. */
export function pendingHooks(plan: Plan, gate: HookGate): readonly PlanHook[] {
  return hooksAt(plan, gate.point).filter((h) => !gate.passed.includes(h.name));
}

export function gatePassed(plan: Plan, gate: HookGate): boolean {
  return pendingHooks(plan, gate).length === 0;
}

/** The plan step a preStep or confirmPromotion gate is before (null: that step has no such hooks). */
export function gatePointOf(plan: Plan, index: number): GatePoint | null {
  const step = plan.steps[index];
  const point = step?.kind === 'weight' ? 'preStep' : step?.kind === 'promote' ? 'confirmPromotion' : null;
  return point !== null && hooksAt(plan, point).length > 0 ? point : null;
}

/** The current step's check calls, when they are about this very application of the step. */
export function checksOf(r: Rollout): HookGate | null {
  const s = r.status;
  const checks = r.hookState?.checks ?? null;
  if ((s.phase !== 'Progressing' && s.phase !== 'Paused') || checks === null) return null;
  return checks.step === s.step && checks.stepStartedAt === r.stepStartedAt ? checks : null;
}

/** Whether the current step's check hooks all passed (true without check hooks or outside a weight step). */
export function checksPassed(r: Rollout): boolean {
  const s = r.status;
  if (hooksAt(r.plan, 'check').length === 0) return true;
  if (s.phase !== 'Progressing' && s.phase !== 'Paused') return true;
  if (r.plan.steps[s.step]?.kind !== 'weight') return true;
  const checks = checksOf(r);
  return checks !== null && gatePassed(r.plan, checks);
}

/** When the current step's check hooks are next called: after the settle time, then after each backoff. */
export function checksDueAt(r: Rollout): number | null {
  if (checksPassed(r) || r.stepStartedAt === null) return null;
  const settled = r.stepStartedAt + r.plan.analysis.settleMs;
  return Math.max(settled, checksOf(r)?.nextCallAt ?? settled);
}

/** When the gate the rollout holds at calls again (null: it holds at none, or calls at once). */
export function gateRetryAt(r: Rollout): number | null {
  const gate = r.hookState?.gate ?? null;
  if (gate === null || gate.nextCallAt === null || gatePassed(r.plan, gate)) return null;
  return gate.nextCallAt;
}

/**
 * When hooks make a Progressing step due: its check calls while they have not all passed (it
 * cannot complete before); then, once it could complete (`completeAt`, or at once on a resumed
 * manual gate), no sooner than the next call of the gate it holds at.
 */
export function hookDueAt(r: Rollout, completeAt: number | null): number | null {
  if (!checksPassed(r)) return checksDueAt(r);
  const s = r.status;
  const atGate =
    s.phase === 'Progressing' && r.plan.steps[s.step]?.kind === 'gate' ? r.updatedAt : completeAt;
  if (atGate === null) return null;
  return Math.max(atGate, gateRetryAt(r) ?? atGate);
}
