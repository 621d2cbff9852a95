/**
 * How a comparison's accumulators (SequentialState) are kept in the judge's JSON state: one set
 * of keys per comparison, so the 5xx and the latency comparisons live side by side.
 */
import type { SequentialState } from './sequential.ts';
import type { JudgeState } from './verdict.ts';

export interface StateKeys {
  readonly prior: string;
  readonly logLik: string;
  readonly intervals: string;
  readonly canaryErrors: string;
  readonly stableErrors: string;
  readonly peak: string;
}

function keys(prefix: string): StateKeys {
  return {
    prior: `${prefix}Prior`,
    logLik: `${prefix}LogLik`,
    intervals: `${prefix}Intervals`,
    canaryErrors: `${prefix}CanaryErrors`,
    stableErrors: `${prefix}StableErrors`,
    peak: `${prefix}PeakLogE`,
  };
}

/** The 5xx comparison (names kept from the first release, so stored rollouts read on). */
export const ERROR_KEYS = keys('seq');
/** The latency comparison: "errors" there are requests slower than the threshold. */
export const LATENCY_KEYS = keys('lat');

export function readSequentialState(prior: JudgeState | null, k: StateKeys): SequentialState | null {
  if (prior === null) return null;
  const id = prior[k.prior];
  const logLik = prior[k.logLik];
  const intervals = prior[k.intervals];
  const canaryErrors = prior[k.canaryErrors];
  const stableErrors = prior[k.stableErrors];
  const peak = prior[k.peak];
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

export function writeSequentialState(s: SequentialState, k: StateKeys): JudgeState {
  return {
    [k.prior]: s.priorId,
    [k.logLik]: s.logLik,
    [k.intervals]: s.intervals,
    [k.canaryErrors]: s.canaryErrors,
    [k.stableErrors]: s.stableErrors,
    [k.peak]: s.peakLogE,
  };
}
