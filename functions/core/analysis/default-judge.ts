/**
 * The default judge: the absolute checks of absolute.ts combined with an anytime-valid
 * comparison with stable — the per-period bets of bursts.ts (valid when errors come in bursts;
 * the default) or the per-error mixture of sequential.ts (errors "independent").
 *
 *   fail          the absolute checks fail (their failure limit, or with errors "clustered" the
 *                 5xx limit's evidence), or the comparison's e-value reached 1/α (the canary's
 *                 5xx rate, or with latency its latency, is worse than stable's)
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
import { type ComparisonOutcome, compare } from './comparison.ts';
import { displayEValue, formatE, significant } from './evidence-format.ts';
import { DEFAULT_PRIOR, type Mixture } from './sequential.ts';
import type { EvidenceValue, Judge, JudgeState, Measurement, Verdict } from './verdict.ts';

/** The verdict of the absolute checks and the comparison together, and one line saying why. */
function combine(
  m: Measurement,
  absolute: AbsoluteOutcome,
  cmp: ComparisonOutcome,
  alpha: number,
): { verdict: Verdict; summary: string } {
  const eValue = displayEValue(cmp.logE);
  const limit = `${formatE(significant(1 / alpha, 6))} (α = ${alpha})`;
  if (cmp.rejected) {
    const evalue =
      cmp.logE >= cmp.logThreshold
        ? `e-value ${formatE(eValue)} ≥ ${limit}`
        : `e-value reached ${formatE(displayEValue(cmp.peakLogE))} ≥ ${limit} earlier (now ${formatE(eValue)})`;
    const summary = `${cmp.finding}: ${evalue} ${cmp.basis}`;
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
      const cmp = compare(m, previous, config, prior);
      const state: Record<string, JudgeState[string]> = {
        ...(previous ?? {}),
        absoluteFailures: absolute.failures,
        ...absolute.state,
        ...cmp.state,
      };
      const evidence: Record<string, EvidenceValue> = { ...absolute.evidence, ...cmp.evidence, errors };
      const notes = [...cmp.notes];
      const { verdict, summary } = combine(m, absolute, cmp, config.sequential.alpha);
      if (cmp.rejected) notes.push(cmp.finding.replace('above', 'is higher than'));
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
