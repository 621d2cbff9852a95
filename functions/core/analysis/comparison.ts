/**
 * The anytime-valid comparison with stable, as the default judge runs it each window: the 5xx
 * e-process (per-period bets or the per-error mixture, by `errors`) and, when the plan compares
 * latency, the latency e-process of latency.ts, averaged. The average of two nonnegative
 * supermartingales on the same windows is one, so rolling back once it reaches 1/α keeps the
 * chance of rolling back a canary no worse than stable at α in total.
 */
import type { AnalysisPlan } from '../plan.ts';
import { displayEValue, significant } from './evidence-format.ts';
import { latencyComparison } from './latency.ts';
import {
  type IntervalCounts,
  type IntervalSkip,
  logThreshold,
  type Mixture,
  type SequentialStep,
  sequentialStep,
} from './sequential.ts';
import { ERROR_KEYS, readSequentialState, writeSequentialState } from './sequential-state.ts';
import type { EvidenceValue, JudgeState, Measurement } from './verdict.ts';

export interface ComparisonOutcome {
  /** log of the e-value the decision rests on (the 5xx one, or the average with latency). */
  readonly logE: number;
  readonly peakLogE: number;
  readonly logThreshold: number;
  /** The e-value has reached 1/α: the canary is worse than stable. */
  readonly rejected: boolean;
  /** What it found, for the summary ("canary 5xx rate above stable's"), and on what evidence. */
  readonly finding: string;
  readonly basis: string;
  readonly evidence: Record<string, EvidenceValue>;
  readonly notes: readonly string[];
  readonly state: JudgeState;
}

const COMBINED_PEAK = 'cmpPeakLogE';

const SKIP_NOTE: Record<IntervalSkip, string> = {
  noErrors: 'no 5xx on either backend this window',
  noCanaryRequests: 'no canary requests this window',
  noStableRequests: 'no stable requests this window',
  invalidCounts: 'inconsistent counts this window (errors above requests or not finite)',
};

function intervalCounts(m: Measurement): IntervalCounts | null {
  if (m.canary.kind !== 'data' || m.stable.kind !== 'data') return null;
  return {
    canaryRequests: m.canary.requests,
    canaryErrors: m.canary.errors,
    stableRequests: m.stable.requests,
    stableErrors: m.stable.errors,
  };
}

function errorNotes(
  m: Measurement,
  step: SequentialStep,
  counts: IntervalCounts | null,
  unreadable: boolean,
) {
  const notes: string[] = [];
  if (counts === null) {
    notes.push(
      `no ${m.stable.kind === 'noData' ? 'stable' : 'canary'} metrics this window; comparison unchanged`,
    );
  } else if (step.skip !== null) {
    notes.push(`${SKIP_NOTE[step.skip]}; comparison unchanged`);
  }
  if (step.restarted || unreadable) {
    notes.push('stored comparison was made with another prior or is unreadable; started afresh');
  }
  return notes;
}

const logMeanExp = (a: number, b: number): number => {
  const max = Math.max(a, b);
  return max + Math.log((Math.exp(a - max) + Math.exp(b - max)) / 2);
};

export function compare(
  m: Measurement,
  previous: JudgeState | null,
  config: AnalysisPlan,
  prior: Mixture,
): ComparisonOutcome {
  const alpha = config.sequential.alpha;
  const stored = readSequentialState(previous, ERROR_KEYS);
  const counts = intervalCounts(m);
  const step = sequentialStep(stored, counts, alpha, prior);
  const unreadable = previous !== null && previous[ERROR_KEYS.prior] !== undefined && stored === null;
  const errors = step.state;
  const evidence: Record<string, EvidenceValue> = {
    eValue: displayEValue(step.logE),
    logEValue: Number(step.logE.toFixed(3)),
    eValueThreshold: significant(1 / alpha, 6),
    peakEValue: displayEValue(errors.peakLogE),
    alpha,
    p0: step.p0 === null ? null : significant(step.p0, 4),
    comparedWindows: errors.intervals,
    comparedCanaryErrors: errors.canaryErrors,
    comparedStableErrors: errors.stableErrors,
  };
  const alone: ComparisonOutcome = {
    logE: step.logE,
    peakLogE: errors.peakLogE,
    logThreshold: step.logThreshold,
    rejected: step.rejected,
    finding: "canary 5xx rate above stable's",
    basis: `over ${errors.canaryErrors} canary and ${errors.stableErrors} stable 5xx`,
    evidence,
    notes: errorNotes(m, step, counts, unreadable),
    state: writeSequentialState(errors, ERROR_KEYS),
  };
  return config.sequential.latency ? withLatency(alone, step, m, previous, alpha) : alone;
}

/** The 5xx comparison averaged with the latency comparison: one e-value, one α. */
function withLatency(
  alone: ComparisonOutcome,
  errors: SequentialStep,
  m: Measurement,
  previous: JudgeState | null,
  alpha: number,
): ComparisonOutcome {
  const latency = latencyComparison(m, previous, alpha);
  const slow = latency.step.state;
  const logE = logMeanExp(errors.logE, latency.step.logE);
  const storedPeak = previous?.[COMBINED_PEAK];
  const peakLogE = Math.max(typeof storedPeak === 'number' ? storedPeak : 0, logE);
  const threshold = logThreshold(alpha);
  const slower = latency.step.logE > errors.logE;
  return {
    logE,
    peakLogE,
    logThreshold: threshold,
    rejected: peakLogE >= threshold,
    finding: slower ? 'canary slower than stable' : alone.finding,
    basis: slower
      ? `over ${slow.canaryErrors} canary and ${slow.stableErrors} stable requests slower than ${latency.thresholdMs} ms (5xx and latency e-values averaged)`
      : `${alone.basis} (5xx and latency e-values averaged)`,
    evidence: {
      ...alone.evidence,
      // The headline e-value is the one the decision rests on: the average.
      eValue: displayEValue(logE),
      logEValue: Number(logE.toFixed(3)),
      peakEValue: displayEValue(peakLogE),
      errorsEValue: displayEValue(errors.logE),
      latencyEValue: displayEValue(latency.step.logE),
      latencyThresholdMs: latency.thresholdMs,
      comparedSlowCanary: slow.canaryErrors,
      comparedSlowStable: slow.stableErrors,
    },
    notes: latency.note === null ? alone.notes : [...alone.notes, latency.note],
    state: { ...alone.state, ...latency.state, [COMBINED_PEAK]: peakLogE },
  };
}
