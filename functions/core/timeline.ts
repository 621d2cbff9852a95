/**
 * The earliest a rollout could go, worked out from its plan alone (rolloutctl plan): every route
 * write lands at once, every window passes, a person approves each gate the moment it is reached.
 * The arithmetic follows schedule.ts: a weight step's windows start at the first sampling boundary
 * after its settle allowance; it completes once windows reaching the end of its hold were judged,
 * and the driver looks at a window `lookAfterMs` after it ends (the ingestion frontier). By
 * `judgedByAt` every point of that window is visible even at the worst ingestion delay.
 */
import type { AnalysisPlan, Plan } from './plan.ts';
import type { Weights } from './weights.ts';

export type TimelineStep =
  | {
      readonly step: number;
      readonly kind: 'weight';
      readonly weights: Weights;
      readonly startsAt: number;
      /** Windows judged before the step may complete. */
      readonly windows: number;
      /** The earliest the next step may begin (the step promoted). */
      readonly promotableAt: number;
      /** When its last window is judged at the latest ingestion delay (no later traffic wait). */
      readonly judgedByAt: number;
    }
  | { readonly step: number; readonly kind: 'gate'; readonly reachedAt: number }
  | {
      readonly step: number;
      readonly kind: 'promote';
      readonly weights: Weights;
      readonly writtenAt: number;
    };

export interface Timeline {
  readonly steps: readonly TimelineStep[];
  /** The earliest the rollout could succeed. */
  readonly completesAt: number;
  /** Gates wait for a person: the times after the first gate assume an instant approval. */
  readonly gates: number;
}

export function rolloutTimeline(plan: Plan, startAt: number): Timeline {
  const steps: TimelineStep[] = [];
  let at = startAt;
  plan.steps.forEach((step, index) => {
    if (step.kind === 'gate') {
      steps.push({ step: index, kind: 'gate', reachedAt: at });
      return;
    }
    if (step.kind === 'promote') {
      steps.push({ step: index, kind: 'promote', weights: step.weights, writtenAt: at });
      return;
    }
    const timed = weightStepTimes(plan.analysis, at, step.holdMs);
    steps.push({ step: index, kind: 'weight', weights: step.weights, startsAt: at, ...timed });
    at = timed.promotableAt;
  });
  return { steps, completesAt: at, gates: steps.filter((s) => s.kind === 'gate').length };
}

/** One weight step started at `startAt`: its judged windows and when it may complete. */
export function weightStepTimes(
  analysis: AnalysisPlan,
  startAt: number,
  holdMs: number,
): { readonly windows: number; readonly promotableAt: number; readonly judgedByAt: number } {
  const { settleMs, samplingPeriodMs, intervalMs, ingestionDelayMs } = analysis;
  const base = Math.ceil((startAt + settleMs) / samplingPeriodMs) * samplingPeriodMs;
  const holdEnd = startAt + holdMs;
  const windows = Math.max(1, Math.ceil((holdEnd - base) / intervalMs));
  const lastEnd = base + windows * intervalMs;
  const lookAfter = Math.min(analysis.pollMs ?? ingestionDelayMs, ingestionDelayMs);
  return { windows, promotableAt: lastEnd + lookAfter, judgedByAt: lastEnd + ingestionDelayMs };
}
