/**
 * One benchmark cell: the same seeded traces judged by the project's default judge (per-period
 * bets, valid under error bursts), the judge for independent errors (per-error mixture), the
 * reference per-error mixture (each called once per interval, as the controller does), the
 * Flagger-style rule and the known-θ oracle.
 */
import type { Judge, JudgeState, Measurement } from '../../functions/core/analysis/verdict.ts';
import type { AnalysisPlan } from '../../functions/core/plan.ts';
import { canaryAt } from '../../functions/core/weights.ts';
import { FLAGGER_RULE, type ThresholdRule, thresholdRollbackAt } from './flagger.ts';
import { rngFor } from './prng.ts';
import { quantile } from './table.ts';
import { FIELDS, generateTrace, type Scenario } from './traces.ts';
import { oracleRollbackAt, type WaldBound, waldBound } from './wald.ts';

export interface RuleOutcome {
  readonly runs: number;
  readonly rollbacks: number;
  readonly rollbackRate: number;
  /** Minutes to roll back, undetected runs counted as never (Infinity); nearest-rank quantiles. */
  readonly minutesP50: number;
  readonly minutesP90: number;
  /** Medians over the runs that rolled back (NaN when none did). */
  readonly canaryRequestsP50: number;
  readonly canaryErrorsP50: number;
  /** Median canary errors served before rollback, undetected runs counted as never (Infinity). */
  readonly canaryErrorsP50AllRuns: number;
}

export interface CellResult {
  readonly scenario: Scenario;
  /** The default judge (errors "clustered"). */
  readonly judge: RuleOutcome;
  /** The judge with errors "independent" (the per-error mixture with the benchmark's prior). */
  readonly independent: RuleOutcome;
  /** The reference per-error mixture (uniform over φ), with the same absolute checks. */
  readonly reference: RuleOutcome;
  /** The per-error mixture with the prior of the previous release (what "today" was). */
  readonly previous: RuleOutcome;
  readonly flagger: RuleOutcome;
  /** Known-θ likelihood ratio test on the same traces (regressions only). */
  readonly oracle: RuleOutcome | null;
  readonly wald: WaldBound | null;
}

class Tally {
  readonly minutes: number[] = [];
  readonly requests: number[] = [];
  readonly errors: number[] = [];
  readonly errorsAll: number[] = [];
  rollbacks = 0;

  add(trace: Float64Array, at: number, intervalSeconds: number): void {
    if (at === 0) {
      this.minutes.push(Number.POSITIVE_INFINITY);
      this.errorsAll.push(Number.POSITIVE_INFINITY);
      return;
    }
    let requests = 0;
    let errors = 0;
    for (let i = 0; i < at; i += 1) {
      requests += trace[i * FIELDS] ?? 0;
      errors += trace[i * FIELDS + 1] ?? 0;
    }
    this.rollbacks += 1;
    this.minutes.push((at * intervalSeconds) / 60);
    this.requests.push(requests);
    this.errors.push(errors);
    this.errorsAll.push(errors);
  }

  outcome(runs: number): RuleOutcome {
    const asc = (a: number[]): number[] => a.sort((x, y) => x - y);
    const minutes = asc(this.minutes);
    return {
      runs,
      rollbacks: this.rollbacks,
      rollbackRate: this.rollbacks / runs,
      minutesP50: quantile(minutes, 0.5),
      minutesP90: quantile(minutes, 0.9),
      canaryRequestsP50: quantile(asc(this.requests), 0.5),
      canaryErrorsP50: quantile(asc(this.errors), 0.5),
      canaryErrorsP50AllRuns: quantile(asc(this.errorsAll), 0.5),
    };
  }
}

/** 1-based interval at which `judge` first returns fail on `trace` (nominal canary shares `weights`), or 0. */
export function judgeRollbackAt(
  judge: Judge,
  plan: AnalysisPlan,
  trace: Float64Array,
  weights: readonly number[],
  intervalMs: number,
): number {
  let state: JudgeState | null = null;
  for (let i = 0; i < weights.length; i += 1) {
    const nc = trace[i * FIELDS] ?? 0;
    const ns = trace[i * FIELDS + 2] ?? 0;
    // Cloud Monitoring has no time series for a backend without requests: that is no data.
    const m: Measurement = {
      window: { index: i + 1, start: i * intervalMs, end: (i + 1) * intervalMs },
      weights: canaryAt(Math.round((weights[i] ?? 0) * 100)),
      canary:
        nc > 0
          ? { kind: 'data', requests: nc, errors: trace[i * FIELDS + 1] ?? 0, latency: null }
          : { kind: 'noData', reason: 'no time series' },
      stable:
        ns > 0
          ? { kind: 'data', requests: ns, errors: trace[i * FIELDS + 3] ?? 0, latency: null }
          : { kind: 'noData', reason: 'no time series' },
    };
    const j = judge.judge(m, state, plan);
    if (j.verdict === 'fail') return i + 1;
    state = j.state;
  }
  return 0;
}

export const JUDGES = ['judge', 'independent', 'reference', 'previous'] as const;
export type JudgeName = (typeof JUDGES)[number];

export interface CellOptions {
  readonly scenario: Scenario;
  readonly runs: number;
  readonly seed: number;
  /** Distinguishes cells so each has its own random streams. */
  readonly stream: number;
  readonly judges: Readonly<Record<JudgeName, Judge>>;
  readonly plan: AnalysisPlan;
  readonly rule?: ThresholdRule;
}

export function runCell(o: CellOptions): CellResult {
  const s = o.scenario;
  const intervals = s.weights.length;
  const trace = new Float64Array(intervals * FIELDS);
  const alpha = o.plan.sequential.alpha;
  const tallies = {
    judge: new Tally(),
    independent: new Tally(),
    reference: new Tally(),
    previous: new Tally(),
  };
  const flagger = new Tally();
  const oracle = s.multiplier > 1 ? new Tally() : null;
  const intervalMs = s.intervalSeconds * 1000;
  for (let run = 0; run < o.runs; run += 1) {
    generateTrace(rngFor(o.seed, o.stream, run), s, trace);
    for (const name of JUDGES) {
      const at = judgeRollbackAt(o.judges[name], o.plan, trace, s.weights, intervalMs);
      tallies[name].add(trace, at, s.intervalSeconds);
    }
    flagger.add(trace, thresholdRollbackAt(trace, intervals, o.rule ?? FLAGGER_RULE), s.intervalSeconds);
    oracle?.add(trace, oracleRollbackAt(trace, intervals, s.multiplier, alpha), s.intervalSeconds);
  }
  return {
    scenario: s,
    judge: tallies.judge.outcome(o.runs),
    independent: tallies.independent.outcome(o.runs),
    reference: tallies.reference.outcome(o.runs),
    previous: tallies.previous.outcome(o.runs),
    flagger: flagger.outcome(o.runs),
    oracle: oracle ? oracle.outcome(o.runs) : null,
    wald: waldBound(s, alpha),
  };
}
