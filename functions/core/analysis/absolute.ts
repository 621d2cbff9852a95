/**
 * Absolute checks on the canary alone (what Flagger and Argo Rollouts do): 5xx ratio, p99
 * latency and p99 relative to stable, with a failure limit counted over the whole rollout.
 *
 * The checks need `minRequests` canary requests. A window with fewer is pooled with the windows
 * that follow it (contiguous ones: a new step starts a new pool) until together they have
 * enough; then the checks run on the pooled counts. So a low-traffic service is judged on a few
 * minutes of traffic at a time instead of never: a collecting window is inconclusive (never a
 * pass), but it is not a data problem and does not count towards the inconclusive limit.
 * Missing metrics are inconclusive; a failed check under the limit is inconclusive too (it
 * cannot complete a step).
 */
import type { AnalysisPlan } from '../plan.ts';
import { errorLimitStep } from './error-limit.ts';
import { displayEValue } from './evidence-format.ts';
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
  /** True when the window only added its requests to the pool (too few for the checks yet). */
  readonly collecting: boolean;
  /** The judge-state keys of the pool and the 5xx limit's evidence after this window. */
  readonly state: JudgeState;
}

/** Canary windows waiting for enough requests to be checked together. */
interface Pool {
  readonly requests: number;
  readonly errors: number;
  readonly windows: number;
  /** End of the last pooled window: only a window starting there joins the pool. */
  readonly end: number;
  readonly latency: LatencyHistogram | null;
}

const EMPTY_POOL: JudgeState = { poolRequests: 0, poolErrors: 0, poolWindows: 0, poolEnd: null };

function readPool(prior: JudgeState | null, start: number): Pool | null {
  const requests = prior?.['poolRequests'];
  const errors = prior?.['poolErrors'];
  const windows = prior?.['poolWindows'];
  const end = prior?.['poolEnd'];
  if (typeof requests !== 'number' || typeof errors !== 'number' || typeof windows !== 'number') return null;
  if (windows === 0 || end !== start) return null;
  const bounds = prior?.['poolLatencyBounds'];
  const counts = prior?.['poolLatencyCounts'];
  const latency = Array.isArray(bounds) && Array.isArray(counts) ? { bounds, counts } : null;
  return { requests, errors, windows, end, latency };
}

function writePool(p: Pool): JudgeState {
  return {
    poolRequests: p.requests,
    poolErrors: p.errors,
    poolWindows: p.windows,
    poolEnd: p.end,
    poolLatencyBounds: p.latency?.bounds ?? null,
    poolLatencyCounts: p.latency?.counts ?? null,
  };
}

function addWindow(
  pooled: Pool | null,
  canary: Extract<BackendReading, { kind: 'data' }>,
  end: number,
): Pool {
  return {
    requests: (pooled?.requests ?? 0) + canary.requests,
    errors: (pooled?.errors ?? 0) + canary.errors,
    windows: (pooled?.windows ?? 0) + 1,
    end,
    latency: addLatency(pooled?.latency ?? null, canary.latency),
  };
}

/** Bucket counts added up when both histograms have the same bounds; otherwise the newer one. */
function addLatency(a: LatencyHistogram | null, b: LatencyHistogram | null): LatencyHistogram | null {
  if (a === null || b === null) return b ?? a;
  const same = a.bounds.length === b.bounds.length && a.bounds.every((x, i) => x === b.bounds[i]);
  return same ? { bounds: b.bounds, counts: b.counts.map((c, i) => c + (a.counts[i] ?? 0)) } : b;
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
  const base = { evidence, failures, collecting: false, state: EMPTY_POOL };
  const pooled = readPool(prior, m.window.start);
  if (canary.kind === 'noData') {
    // The pool waits for the next window (only contiguous windows join it, so a gap ends it).
    const pool = pooled ? writePool({ ...pooled, end: m.window.end }) : EMPTY_POOL;
    return {
      ...base,
      verdict: 'inconclusive',
      summary: `no canary metrics (${canary.reason})`,
      canaryRequests: 0,
      state: pool,
    };
  }
  evidence['canaryRequests'] = canary.requests;
  evidence['canaryErrors'] = canary.errors;
  evidence['canaryErrorRatio'] = canary.requests > 0 ? round(canary.errors / canary.requests) : null;
  const pool = addWindow(pooled, canary, m.window.end);
  if (pool.requests < config.minRequests) {
    const windows = `${pool.windows} window${pool.windows > 1 ? 's' : ''}`;
    const summary = `collecting canary requests: ${pool.requests} of ${config.minRequests} over ${windows}`;
    const state = writePool(pool);
    return {
      ...base,
      verdict: 'inconclusive',
      summary,
      canaryRequests: canary.requests,
      collecting: true,
      state,
    };
  }
  const limit = errorLimit(pool, prior, config, evidence);
  const checked = checkPool(pool, stable, config, evidence, failures, limit);
  return { ...base, ...checked, state: limit.state, canaryRequests: canary.requests };
}

/**
 * The 5xx limit on a pool with enough requests: with errors "clustered", failed only once the
 * bets of error-limit.ts show the canary's ratio is above it (a window merely above it is
 * inconclusive); with "independent", every window above it is a failed check.
 */
function errorLimit(
  pool: Pool,
  prior: JudgeState | null,
  config: AnalysisPlan,
  evidence: Record<string, EvidenceValue>,
): {
  readonly problem: string | null;
  readonly decided: boolean;
  readonly hold: string | null;
  readonly state: JudgeState;
} {
  const ratio = pool.errors / pool.requests;
  const text = `5xx ratio ${(ratio * 100).toFixed(2)}%`;
  const limit = `${(config.maxErrorRatio * 100).toFixed(2)}%`;
  if (config.sequential.errors !== 'clustered') {
    const problem = ratio > config.maxErrorRatio ? `${text} > ${limit}` : null;
    return { problem, decided: false, hold: null, state: EMPTY_POOL };
  }
  const step = errorLimitStep(prior, pool, config.maxErrorRatio, config.sequential.alpha);
  const e = displayEValue(step.peakLogE);
  evidence['limitEValue'] = e;
  const state = { ...EMPTY_POOL, ...step.state };
  if (step.rejected) {
    return {
      problem: `canary 5xx above the ${limit} limit: e-value ${e} ≥ ${displayEValue(step.logThreshold)} (${text} now)`,
      decided: true,
      hold: null,
      state,
    };
  }
  const hold =
    ratio > config.maxErrorRatio
      ? `${text} > ${limit} this window, not yet evidence that the canary's rate is above it (e-value ${e})`
      : null;
  return { problem: null, decided: false, hold, state };
}

/** The checks on a pool with enough canary requests: pass, a failed check (fail at the limit), or missing latency. */
function checkPool(
  pool: Pool,
  stable: BackendReading,
  config: AnalysisPlan,
  evidence: Record<string, EvidenceValue>,
  failures: number,
  limit: ReturnType<typeof errorLimit>,
): Pick<AbsoluteOutcome, 'verdict' | 'summary' | 'failures'> {
  if (pool.windows > 1) {
    Object.assign(evidence, {
      pooledWindows: pool.windows,
      pooledCanaryRequests: pool.requests,
      pooledCanaryErrors: pool.errors,
    });
  }
  const ratio = pool.errors / pool.requests;
  const latency = latencyChecks(pool.latency, stable, config, evidence);
  if (limit.decided && limit.problem !== null) {
    return { verdict: 'fail', summary: [limit.problem, ...latency.problems].join('; '), failures };
  }
  const problems = [...(limit.problem === null ? [] : [limit.problem]), ...latency.problems];
  if (problems.length > 0) {
    const total = failures + 1;
    evidence['failures'] = total;
    const summary = `${problems.join('; ')} (failed check ${total} of ${config.failureLimit} allowed)`;
    return { verdict: total >= config.failureLimit ? 'fail' : 'inconclusive', summary, failures: total };
  }
  if (limit.hold !== null) return { verdict: 'inconclusive', summary: limit.hold, failures };
  if (latency.missing.length > 0) {
    return {
      verdict: 'inconclusive',
      summary: `missing ${latency.missing.join(' and ')} for the latency check`,
      failures,
    };
  }
  const over =
    pool.windows > 1
      ? `${pool.requests} canary requests (${pool.windows} windows)`
      : `${pool.requests} canary requests`;
  return {
    verdict: 'pass',
    summary: `5xx ${(ratio * 100).toFixed(2)}% over ${over} within limits`,
    failures,
  };
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
      collecting: outcome.collecting,
      state: { ...(prior ?? {}), absoluteFailures: outcome.failures, ...outcome.state },
    };
  },
};
