/**
 * The default judge: the absolute checks of absolute.ts combined with an anytime-valid
 * comparison with stable — the per-period bets of bursts.ts (valid when errors come in bursts;
 * the default) or the per-error mixture of sequential.ts (errors "independent").
 *
 *   fail          the absolute checks reached their failure limit, or the comparison's e-value
 *                 reached 1/α (the canary's 5xx rate is higher than stable's)
 *   pass          otherwise, when the absolute checks pass (metrics present, enough canary
 *                 requests, no failed check this window)
 *   inconclusive  everything else: missing metrics and too few requests are never a pass
 *
 * The comparison uses every window in which both backends have requests and at least one has
 * errors, including windows with too few canary requests for the absolute checks.
 */
import type { AnalysisPlan, ErrorModel } from '../plan.ts';
import { type AbsoluteOutcome, absoluteChecks } from './absolute.ts';
import { DEFAULT_BETS } from './bursts.ts';
import {
  DEFAULT_PRIOR,
  type IntervalCounts,
  type IntervalSkip,
  type Mixture,
  type SequentialState,
  sequentialStep,
} from './sequential.ts';
import type { EvidenceValue, Judge, JudgeState, Measurement, Verdict } from './verdict.ts';

/** Keys of the comparison's accumulators in JudgeState. */
const KEY = {
  prior: 'seqPrior',
  logLik: 'seqLogLik',
  intervals: 'seqIntervals',
  canaryErrors: 'seqCanaryErrors',
  stableErrors: 'seqStableErrors',
  peak: 'seqPeakLogE',
} as const;

function readSequentialState(prior: JudgeState | null): SequentialState | null {
  if (prior === null) return null;
  const id = prior[KEY.prior];
  const logLik = prior[KEY.logLik];
  const intervals = prior[KEY.intervals];
  const canaryErrors = prior[KEY.canaryErrors];
  const stableErrors = prior[KEY.stableErrors];
  const peak = prior[KEY.peak];
  if (
    typeof id !== 'string' ||
    !Array.isArray(logLik) ||
    typeof intervals !== 'number' ||
    typeof canaryErrors !== 'number' ||
    typeof stableErrors !== 'number' ||
    typeof peak !== 'number'
  ) {
    return null;
  }
  const sums: readonly unknown[] = logLik;
  if (!sums.every((v): v is number => typeof v === 'number' && Number.isFinite(v))) return null;
  return {
    priorId: id,
    logLik: sums as readonly number[],
    intervals,
    canaryErrors,
    stableErrors,
    peakLogE: peak,
  };
}

function writeSequentialState(s: SequentialState): JudgeState {
  return {
    [KEY.prior]: s.priorId,
    [KEY.logLik]: s.logLik,
    [KEY.intervals]: s.intervals,
    [KEY.canaryErrors]: s.canaryErrors,
    [KEY.stableErrors]: s.stableErrors,
    [KEY.peak]: s.peakLogE,
  };
}

function intervalCounts(m: Measurement): IntervalCounts | null {
  if (m.canary.kind !== 'data' || m.stable.kind !== 'data') return null;
  return {
    canaryRequests: m.canary.requests,
    canaryErrors: m.canary.errors,
    stableRequests: m.stable.requests,
    stableErrors: m.stable.errors,
  };
}

/** `x` to `digits` significant digits, as a plain JSON number. */
export function significant(x: number, digits = 3): number {
  if (x === 0 || !Number.isFinite(x)) return Number.isFinite(x) ? 0 : Number.MAX_VALUE;
  return Number(x.toPrecision(digits));
}

/** The e-value for display: 3 significant digits, capped at 1e300 so it stays a JSON number. */
export function displayEValue(logE: number): number {
  return logE > 690 ? 1e300 : significant(Math.exp(logE));
}

const SKIP_NOTE: Record<IntervalSkip, string> = {
  noErrors: 'no 5xx on either backend this window',
  noCanaryRequests: 'no canary requests this window',
  noStableRequests: 'no stable requests this window',
  invalidCounts: 'inconsistent counts this window (errors above requests or not finite)',
};

function formatE(e: number): string {
  if (e === 0) return '0';
  if (e >= 1e6) return e.toExponential(2);
  if (e >= 100) return e.toFixed(0);
  if (e >= 0.01) return e.toPrecision(3);
  return e.toExponential(1);
}

type Step = ReturnType<typeof sequentialStep>;

/** The comparison's evidence for this window: e-value against its threshold, and what it rests on. */
function comparisonEvidence(step: Step, alpha: number): Record<string, EvidenceValue> {
  return {
    eValue: displayEValue(step.logE),
    logEValue: Number(step.logE.toFixed(3)),
    eValueThreshold: significant(1 / alpha, 6),
    peakEValue: displayEValue(step.state.peakLogE),
    alpha,
    p0: step.p0 === null ? null : significant(step.p0, 4),
    comparedWindows: step.state.intervals,
    comparedCanaryErrors: step.state.canaryErrors,
    comparedStableErrors: step.state.stableErrors,
  };
}

/** The verdict of the absolute checks and the comparison together, and one line saying why. */
function combine(
  m: Measurement,
  absolute: AbsoluteOutcome,
  step: Step,
  alpha: number,
  notes: string[],
): { verdict: Verdict; summary: string } {
  const eValue = displayEValue(step.logE);
  const limit = `${formatE(significant(1 / alpha, 6))} (α = ${alpha})`;
  if (step.rejected) {
    const evalue =
      step.logE >= step.logThreshold
        ? `e-value ${formatE(eValue)} ≥ ${limit}`
        : `e-value reached ${formatE(displayEValue(step.state.peakLogE))} ≥ ${limit} earlier (now ${formatE(eValue)})`;
    notes.push("canary 5xx rate is higher than stable's");
    const summary = `canary 5xx rate above stable's: ${evalue} over ${step.state.canaryErrors} canary and ${step.state.stableErrors} stable 5xx`;
    return {
      verdict: 'fail',
      summary: absolute.verdict === 'fail' ? `${summary}; ${absolute.summary}` : summary,
    };
  }
  if (m.stable.kind === 'noData' && m.weights.stable > 0 && absolute.verdict !== 'fail') {
    // Stable serves traffic but has no metrics: a wrong stable source would otherwise switch
    // the comparison off without a word. Only a step at 100% canary legitimately has none.
    return {
      verdict: 'inconclusive',
      summary: `no stable metrics while stable serves ${m.weights.stable}% (${m.stable.reason}); the comparison with stable cannot run: check analysis.metrics.stable`,
    };
  }
  return { verdict: absolute.verdict, summary: `${absolute.summary}; e-value ${formatE(eValue)} < ${limit}` };
}

/**
 * The judge with a given comparison (tests and the benchmark try others; production uses the
 * two below). `errors` names the assumption the comparison is valid under, shown in its evidence.
 */
export function createSequentialJudge(
  prior: Mixture = DEFAULT_PRIOR,
  errors: ErrorModel = 'independent',
): Judge {
  return {
    name: errors === 'independent' ? 'sequential' : 'sequential:clustered',
    judge(m: Measurement, previous: JudgeState | null, config: AnalysisPlan) {
      const absolute = absoluteChecks(m, previous, config);
      const alpha = config.sequential.alpha;
      const stored = readSequentialState(previous);
      const counts = intervalCounts(m);
      const step = sequentialStep(stored, counts, alpha, prior);
      const state: Record<string, JudgeState[string]> = {
        ...(previous ?? {}),
        absoluteFailures: absolute.failures,
        ...absolute.state,
        ...writeSequentialState(step.state),
      };
      const evidence: Record<string, EvidenceValue> = {
        ...absolute.evidence,
        ...comparisonEvidence(step, alpha),
        errors,
      };
      const notes: string[] = [];
      if (counts === null) {
        const missing = m.stable.kind === 'noData' ? 'stable' : 'canary';
        notes.push(`no ${missing} metrics this window; comparison unchanged`);
      } else if (step.skip !== null) {
        notes.push(`${SKIP_NOTE[step.skip]}; comparison unchanged`);
      }
      if (step.restarted || (previous !== null && previous[KEY.prior] !== undefined && stored === null)) {
        notes.push('stored comparison was made with another prior or is unreadable; started afresh');
      }
      const { verdict, summary } = combine(m, absolute, step, alpha, notes);
      evidence['reasons'] = notes.length > 0 ? notes.join('; ') : null;
      const collecting = verdict === 'inconclusive' && absolute.collecting;
      return { verdict, summary, evidence, canaryRequests: absolute.canaryRequests, collecting, state };
    },
  };
}

/** Absolute checks plus the per-error mixture with DEFAULT_PRIOR ('sequential', errors "independent"). */
export const defaultJudge: Judge = createSequentialJudge();

/** Absolute checks plus the per-period bets of bursts.ts (the default: errors "clustered"). */
export const burstJudge: Judge = createSequentialJudge(DEFAULT_BETS, 'clustered');
