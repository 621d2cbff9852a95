/**
 * When things are due: analysis windows of the current step and the step's hold time.
 *
 * Window k of a step covers [base + (k-1)·interval, base + k·interval] where base is the time
 * the step's weights were confirmed live plus the settle time, so no window mixes traffic of
 * two weight settings. It can be read once it is `ingestionDelay` old.
 */

import type { AnalysisWindow } from './analysis/verdict.ts';
import type { PlanStep } from './plan.ts';
import type { Rollout } from './state.ts';

export function currentStep(r: Rollout): PlanStep | undefined {
  const s = r.status;
  if (s.phase === 'Progressing' || s.phase === 'Paused') return r.plan.steps[s.step];
  return undefined;
}

/** Analysis runs while canary traffic is live and settled, paused or not (a bad canary is rolled back even when paused). */
export function isAnalysing(r: Rollout): boolean {
  if (r.intent !== null || r.stepStartedAt === null || r.weights.canary === 0) return false;
  if (r.status.phase === 'Progressing') return true;
  return r.status.phase === 'Paused' && r.status.reason.kind !== 'drift';
}

function windowBase(r: Rollout): number {
  return (r.stepStartedAt ?? 0) + r.plan.analysis.settleMs;
}

/** The next window that has not been judged yet. */
export function expectedWindow(r: Rollout): AnalysisWindow {
  const { intervalMs } = r.plan.analysis;
  const base = windowBase(r);
  const index = r.analysis.windowsJudged + 1;
  return { index, start: base + (index - 1) * intervalMs, end: base + index * intervalMs };
}

export function nextWindowDueAt(r: Rollout): number {
  return expectedWindow(r).end + r.plan.analysis.ingestionDelayMs;
}

/**
 * The window to measure now, if any. A late driver gets every overdue window as one
 * measurement (still disjoint from judged windows), not a backlog of calls.
 */
export function dueWindow(r: Rollout, now: number): AnalysisWindow | null {
  if (!isAnalysing(r)) return null;
  const { intervalMs, ingestionDelayMs } = r.plan.analysis;
  const base = windowBase(r);
  const readable = Math.floor((now - ingestionDelayMs - base) / intervalMs);
  const first = expectedWindow(r);
  if (readable < first.index) return null;
  return { index: readable, start: first.start, end: base + readable * intervalMs };
}

/** A step may complete only on evidence: the latest window passed and enough canary requests were seen. */
export function stepEvidenceSufficient(r: Rollout): boolean {
  const a = r.analysis;
  return (
    a.windowsJudged > 0 && a.last?.verdict === 'pass' && a.stepCanaryRequests >= r.plan.analysis.minRequests
  );
}

export function holdEndsAt(r: Rollout): number | null {
  const step = currentStep(r);
  if (step?.kind !== 'weight' || r.stepStartedAt === null) return null;
  return r.stepStartedAt + step.holdMs;
}

export function computeNextActionAt(r: Rollout): number | null {
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
    default:
      break;
  }
  if (r.intent !== null) return r.intent.leaseUntil;
  switch (s.phase) {
    case 'Pending':
      return r.createdAt;
    case 'Progressing': {
      if (r.stepStartedAt === null) return r.updatedAt;
      const windowDue = nextWindowDueAt(r);
      const holdEnd = holdEndsAt(r);
      return holdEnd !== null && stepEvidenceSufficient(r) ? Math.min(windowDue, holdEnd) : windowDue;
    }
    case 'Paused':
      return isAnalysing(r) ? nextWindowDueAt(r) : null;
    default:
      return r.updatedAt;
  }
}
