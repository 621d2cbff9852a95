/**
 * Absolute checks on the canary alone (what Flagger and Argo Rollouts do): 5xx ratio, p99
 * latency and p99 relative to stable, with a failure limit counted over the whole rollout.
 * A window with too few canary requests or missing metrics is inconclusive, never a pass;
 * a failed check under the limit is inconclusive too (it cannot complete a step).
 */
import type { AnalysisPlan } from '../plan.ts';
import { percentile } from './histogram.ts';
import type {
  BackendReading,
  EvidenceValue,
  Judge,
  Judgement,
  JudgeState,
  LatencyHistogram,
  Measurement,
} from './verdict.ts';

function priorFailures(prior: JudgeState | null): number {
  const value = prior?.['absoluteFailures'];
  return typeof value === 'number' ? value : 0;
}

const round = (x: number, digits = 6): number => Number(x.toFixed(digits));

export interface AbsoluteOutcome {
  readonly verdict: Judgement['verdict'];
  readonly summary: string;
  readonly evidence: Record<string, EvidenceValue>;
  readonly canaryRequests: number;
  readonly failures: number;
}

export function absoluteChecks(
  m: Measurement,
  prior: JudgeState | null,
  config: AnalysisPlan,
): AbsoluteOutcome {
  const failures = priorFailures(prior);
  const { canary, stable } = m;
  const evidence: Record<string, EvidenceValue> = { failures, failureLimit: config.failureLimit };
  if (stable.kind === 'data') {
    evidence['stableRequests'] = stable.requests;
    evidence['stableErrors'] = stable.errors;
    evidence['stableErrorRatio'] = stable.requests > 0 ? round(stable.errors / stable.requests) : null;
  }
  const outcome = (
    verdict: Judgement['verdict'],
    summary: string,
    canaryRequests: number,
    total = failures,
  ) => ({
    verdict,
    summary,
    evidence,
    canaryRequests,
    failures: total,
  });
  if (canary.kind === 'noData') return outcome('inconclusive', `no canary metrics (${canary.reason})`, 0);
  evidence['canaryRequests'] = canary.requests;
  evidence['canaryErrors'] = canary.errors;
  evidence['canaryErrorRatio'] = canary.requests > 0 ? round(canary.errors / canary.requests) : null;
  if (canary.requests < config.minRequests) {
    return outcome(
      'inconclusive',
      `too few canary requests (${canary.requests} < ${config.minRequests})`,
      canary.requests,
    );
  }
  const ratio = canary.errors / canary.requests;
  const problems: string[] = [];
  if (ratio > config.maxErrorRatio) {
    problems.push(`5xx ratio ${(ratio * 100).toFixed(2)}% > ${(config.maxErrorRatio * 100).toFixed(2)}%`);
  }
  const latency = latencyChecks(canary.latency, stable, config, evidence);
  problems.push(...latency.problems);
  if (problems.length > 0) {
    const total = failures + 1;
    evidence['failures'] = total;
    const summary = `${problems.join('; ')} (failed check ${total} of ${config.failureLimit} allowed)`;
    return outcome(total >= config.failureLimit ? 'fail' : 'inconclusive', summary, canary.requests, total);
  }
  if (latency.missing.length > 0) {
    const summary = `missing ${latency.missing.join(' and ')} for the latency check`;
    return outcome('inconclusive', summary, canary.requests);
  }
  const summary = `5xx ${(ratio * 100).toFixed(2)}% over ${canary.requests} canary requests within limits`;
  return outcome('pass', summary, canary.requests);
}

/** The p99 checks, when configured: what failed, and what was missing to check. */
function latencyChecks(
  canaryLatency: LatencyHistogram | null,
  stable: BackendReading,
  config: AnalysisPlan,
  evidence: Record<string, EvidenceValue>,
): { problems: string[]; missing: string[] } {
  const problems: string[] = [];
  const missing: string[] = [];
  if (config.maxP99LatencyMs === null && config.maxP99LatencyRatio === null) return { problems, missing };
  const canaryP99 = canaryLatency ? percentile(canaryLatency, 0.99) : null;
  evidence['canaryP99Ms'] = canaryP99 === null ? null : round(canaryP99, 2);
  if (canaryP99 === null) missing.push('canary latency');
  if (canaryP99 !== null && config.maxP99LatencyMs !== null && canaryP99 > config.maxP99LatencyMs) {
    problems.push(`p99 ${canaryP99.toFixed(0)}ms > ${config.maxP99LatencyMs}ms`);
  }
  if (config.maxP99LatencyRatio === null) return { problems, missing };
  const stableP99 = stable.kind === 'data' && stable.latency ? percentile(stable.latency, 0.99) : null;
  evidence['stableP99Ms'] = stableP99 === null ? null : round(stableP99, 2);
  if (stableP99 === null) missing.push('stable latency');
  else if (canaryP99 !== null && canaryP99 > stableP99 * config.maxP99LatencyRatio) {
    problems.push(
      `p99 ${canaryP99.toFixed(0)}ms > ${config.maxP99LatencyRatio}× stable ${stableP99.toFixed(0)}ms`,
    );
  }
  return { problems, missing };
}

/** The absolute checks alone, as a judge (used when the sequential comparison is turned off). */
export const absoluteJudge: Judge = {
  name: 'absolute',
  judge(m, prior, config) {
    const outcome = absoluteChecks(m, prior, config);
    return {
      verdict: outcome.verdict,
      summary: outcome.summary,
      evidence: outcome.evidence,
      canaryRequests: outcome.canaryRequests,
      state: { ...(prior ?? {}), absoluteFailures: outcome.failures },
    };
  },
};
