/**
 * A Flagger-style fixed-threshold rule: each interval with at least `minRequests` canary
 * requests is a check, failed when the canary's success rate is below `minSuccessRate`; the
 * canary is rolled back once `failureLimit` checks have failed (counted over the whole rollout,
 * as Flagger's failedChecks). Intervals with fewer requests are skipped, not failed.
 */
import { FIELDS } from './traces.ts';

export interface ThresholdRule {
  readonly minSuccessRate: number;
  readonly failureLimit: number;
  readonly minRequests: number;
}

export const FLAGGER_RULE: ThresholdRule = { minSuccessRate: 0.99, failureLimit: 5, minRequests: 100 };

/** 1-based interval at which the rule rolls back, or 0 when it never does within the trace. */
export function thresholdRollbackAt(trace: Float64Array, intervals: number, rule: ThresholdRule): number {
  let failed = 0;
  for (let i = 0; i < intervals; i += 1) {
    const requests = trace[i * FIELDS] ?? 0;
    const errors = trace[i * FIELDS + 1] ?? 0;
    if (requests < rule.minRequests) continue;
    if (1 - errors / requests < rule.minSuccessRate) {
      failed += 1;
      if (failed >= rule.failureLimit) return i + 1;
    }
  }
  return 0;
}
