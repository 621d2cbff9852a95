/**
 * When things are due: analysis windows of the current step and the step's hold time.
 *
 * Window k of a step covers [base + (k-1)·interval, base + k·interval), where base is the
 * first sampling boundary (a multiple of the metric's sampling period, a minute) at or after
 * the moment the step's weights were confirmed plus the settle allowance for them to reach the
 * mesh clients. Windows on sampling boundaries count whole metric points, so no point that
 * began under the previous weights is counted. Windows whose metrics still show a split other
 * than the step's are not judged (settling windows, before the first judged one): the barrier
 * follows what the data shows, not only the allowance. A window can be read once it is
 * `ingestionDelay` old. A step completes only once the windows up to the end of its hold were
 * judged, so no traffic before a promotion goes unjudged.
 */

import type { AnalysisWindow } from './analysis/verdict.ts';
import { deadlineWakeAt, earliest } from './deadline-times.ts';
import { gateRetryAt, hookDueAt } from './hook-state.ts';
import type { PlanStep } from './plan.ts';
import type { AbortingStatus, AnalysisState, Rollout } from './state.ts';

export function currentStep(r: Rollout): PlanStep | undefined {
  const s = r.status;
  if (s.phase === 'Progressing' || s.phase === 'Paused') return r.plan.steps[s.step];
  return undefined;
}

/** Analysis runs while canary traffic is live and settled, paused or not (a bad canary is rolled back even when paused). */
export function isAnalysing(r: Rollout): boolean {
  if (r.intent !== null || r.stepStartedAt === null || r.weights.canary === 0) return false;
  if (r.status.phase === 'Progressing' || r.status.phase === 'Aborting') return true;
  return r.status.phase === 'Paused' && r.status.reason.kind !== 'drift';
}

/** The analysis state a step starts with. */
export function freshStepAnalysis(a: AnalysisState): AnalysisState {
  return {
    ...a,
    windowsJudged: 0,
    windowsSettling: 0,
    splitSeen: false,
    stepCanaryRequests: 0,
    inconclusiveStreak: 0,
    trafficPauses: 0,
  };
}

/**
 * When the current weight step has waited long enough for traffic to judge it: its maximum
 * duration (once more per resume after such a pause), but never before its hold plus the time
 * its last window needs to become readable. Null without a limit or outside a weight step.
 */
export function stepDeadline(r: Rollout): number | null {
  const a = r.plan.analysis;
  const holdEnd = holdEndsAt(r);
  // Rollouts stored before the limit existed have no maxStepMs: no limit.
  if ((a.maxStepMs ?? null) === null || holdEnd === null || r.stepStartedAt === null) return null;
  const readable = holdEnd + a.settleMs + a.samplingPeriodMs + a.intervalMs + a.ingestionDelayMs;
  return Math.max(r.stepStartedAt + (a.maxStepMs ?? 0) * ((r.analysis.trafficPauses ?? 0) + 1), readable);
}

/** Start of the step's first window: the first sampling boundary after the settle allowance. */
export function windowBase(r: Rollout): number {
  const { settleMs, samplingPeriodMs } = r.plan.analysis;
  const earliest = (r.stepStartedAt ?? 0) + settleMs;
  return Math.ceil(earliest / samplingPeriodMs) * samplingPeriodMs;
}

/** Windows of the step already measured: settling ones first, then judged ones. */
function windowsDone(r: Rollout): number {
  return r.analysis.windowsSettling + r.analysis.windowsJudged;
}

/** The next window that has not been measured yet. */
export function expectedWindow(r: Rollout): AnalysisWindow {
  const { intervalMs } = r.plan.analysis;
  const base = windowBase(r);
  const index = windowsDone(r) + 1;
  return { index, start: base + (index - 1) * intervalMs, end: base + index * intervalMs };
}

/** Up to when the step's traffic was judged (the end of its last judged window); null before any. */
export function judgedUntil(r: Rollout): number | null {
  if (r.analysis.windowsJudged === 0) return null;
  return windowBase(r) + windowsDone(r) * r.plan.analysis.intervalMs;
}

/**
 * How soon after a window ends the driver first looks for its points (the ingestion frontier),
 * and how often after that until its deadline. Rollouts stored before the frontier wait for the
 * deadline, as they did.
 */
export function lookAfterMs(r: Rollout): number {
  const { pollMs, ingestionDelayMs } = r.plan.analysis;
  return Math.min(pollMs ?? ingestionDelayMs, ingestionDelayMs);
}

/** When a window's points are all visible at the latest: later ones count as missing. */
export function windowDeadline(r: Rollout, window: Pick<AnalysisWindow, 'end'>): number {
  return window.end + r.plan.analysis.ingestionDelayMs;
}

export function nextWindowDueAt(r: Rollout): number {
  return expectedWindow(r).end + lookAfterMs(r);
}

/**
 * The window to measure now, if any. The next window is looked at from `lookAfterMs` after its
 * end; read before its deadline it counts only once all its points are visible (analysis/
 * frontier.ts). A late driver gets every window past its deadline as one measurement (still
 * disjoint from measured windows), not a backlog of calls — except while the step's split was
 * not yet seen in the metrics: then one window at a time, so a window that still shows the
 * previous split can be left out alone.
 */
export function dueWindow(r: Rollout, now: number): AnalysisWindow | null {
  if (!isAnalysing(r)) return null;
  const { intervalMs, ingestionDelayMs } = r.plan.analysis;
  const base = windowBase(r);
  const readable = Math.floor((now - ingestionDelayMs - base) / intervalMs);
  const first = expectedWindow(r);
  if (readable < first.index) return now >= first.end + lookAfterMs(r) ? first : null;
  if (!r.analysis.splitSeen) return first;
  return { index: readable, start: first.start, end: base + readable * intervalMs };
}

/**
 * A step may complete only on evidence: the latest window passed, enough canary requests were
 * seen, and the judged windows reach the end of the hold.
 */
export function stepEvidenceSufficient(r: Rollout): boolean {
  const a = r.analysis;
  const holdEnd = holdEndsAt(r);
  const judged = judgedUntil(r);
  return (
    judged !== null &&
    (holdEnd === null || judged >= holdEnd) &&
    a.last?.verdict === 'pass' &&
    a.stepCanaryRequests >= r.plan.analysis.minRequests
  );
}

export function holdEndsAt(r: Rollout): number | null {
  const step = currentStep(r);
  if (step?.kind !== 'weight' || r.stepStartedAt === null) return null;
  return r.stepStartedAt + step.holdMs;
}

/** When a driver must come next: the rollout's own work, or a progress deadline if that is sooner. */
export function computeNextActionAt(r: Rollout): number | null {
  return earliest(plannedActionAt(r), deadlineWakeAt(r));
}

/** When the rollout's own work is next due (deadlines aside); null when only a person can move it. */
export function plannedActionAt(r: Rollout): number | null {
  const s = r.status;
  switch (s.phase) {
    case 'Succeeded':
    case 'RolledBack':
    case 'Aborted':
    case 'Failed':
      return null;
    case 'ActionRequired':
      // Nothing is due until a person acts; drivers only look whether the route changed.
      return null;
    case 'Queued':
      // Nothing is due until the route's lock is handed to it (it becomes Pending then).
      return null;
    default:
      break;
  }
  if (r.intent !== null) return r.intent.leaseUntil;
  switch (s.phase) {
    case 'Pending':
      return gateRetryAt(r) ?? r.createdAt;
    case 'Progressing': {
      if (r.stepStartedAt === null) return gateRetryAt(r) ?? r.updatedAt;
      const windowDue = nextWindowDueAt(r);
      const holdEnd = holdEndsAt(r);
      // Hooks: the step's check calls, and the gate before the next step (hook-state.ts).
      const hooks = hookDueAt(r, holdEnd !== null && stepEvidenceSufficient(r) ? holdEnd : null);
      return hooks === null ? windowDue : Math.min(windowDue, hooks);
    }
    case 'Paused':
      return isAnalysing(r) ? nextWindowDueAt(r) : null;
    case 'Aborting':
      return stepDownDueAt(r, s);
    default:
      return r.updatedAt;
  }
}

/**
 * A gradual abort's next due time: the end of the lower weight's hold (or its next analysis window
 * if that comes first); while an operator holds the step-down, only its analysis windows.
 */
function stepDownDueAt(r: Rollout, s: AbortingStatus): number | null {
  const windowDue = isAnalysing(r) ? nextWindowDueAt(r) : null;
  if (s.held !== null) return windowDue;
  if (r.stepStartedAt === null) return r.updatedAt;
  const holdEnd = r.stepStartedAt + s.holdMs;
  return windowDue === null ? holdEnd : Math.min(windowDue, holdEnd);
}
