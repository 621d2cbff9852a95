/**
 * Helpers for tests that run a comparison on seeded simulated traffic (bench/analysis traces):
 * a binomial tolerance around α and the fraction of runs a test rolls back.
 */
import { rngFor } from '../../bench/analysis/prng.ts';
import { FIELDS, generateTrace, type Scenario } from '../../bench/analysis/traces.ts';
import {
  type IntervalCounts,
  type Mixture,
  type SequentialState,
  sequentialStep,
} from '../../functions/core/analysis/sequential.ts';

export const ALPHA = 0.01;
export const SEED = 20_260_523;

/** Upper end of a 3-sigma binomial band around α for `runs` runs. */
export function tolerance(runs: number, alpha = ALPHA): number {
  return alpha + 3 * Math.sqrt((alpha * (1 - alpha)) / runs);
}

export function countsAt(trace: Float64Array, i: number): IntervalCounts {
  return {
    canaryRequests: trace[i * FIELDS] ?? 0,
    canaryErrors: trace[i * FIELDS + 1] ?? 0,
    stableRequests: trace[i * FIELDS + 2] ?? 0,
    stableErrors: trace[i * FIELDS + 3] ?? 0,
  };
}

/** Runs `test` on `runs` seeded traces of `s`; returns the fraction of runs it rolled back. */
export function rollbackRate(
  s: Scenario,
  runs: number,
  stream: number,
  test: (trace: Float64Array, intervals: number) => boolean,
): number {
  const trace = new Float64Array(s.weights.length * FIELDS);
  let rollbacks = 0;
  for (let run = 0; run < runs; run += 1) {
    generateTrace(rngFor(SEED, stream, run), s, trace);
    if (test(trace, s.weights.length)) rollbacks += 1;
  }
  return rollbacks / runs;
}

/** A comparison exactly as the judge folds it: actual counts, one step per interval, stop at 1/α. */
export function rollsBackWith(mixture: Mixture) {
  return (trace: Float64Array, intervals: number): boolean => {
    let state: SequentialState | null = null;
    for (let i = 0; i < intervals; i += 1) {
      const step = sequentialStep(state, countsAt(trace, i), ALPHA, mixture);
      if (step.rejected) return true;
      state = step.state;
    }
    return false;
  };
}

export const scenario = (over: Partial<Scenario> & Pick<Scenario, 'weights'>): Scenario => ({
  rps: 20,
  baseline: 0.01,
  multiplier: 1,
  intervalSeconds: 60,
  ...over,
});
