/**
 * The verdict seam: a judge turns one analysis window's measurements into Pass, Fail or
 * Inconclusive, carrying its own accumulators from window to window. The lifecycle only
 * sees the verdict; which judge produced it is the caller's choice.
 */
import type { AnalysisPlan } from '../plan.ts';
import type { Weights } from '../weights.ts';

/** Latency histogram in milliseconds: `counts[i]` covers [bounds[i-1], bounds[i]); first and last are open. */
export interface LatencyHistogram {
  readonly bounds: readonly number[];
  readonly counts: readonly number[];
}

export type BackendReading =
  | {
      readonly kind: 'data';
      readonly requests: number;
      readonly errors: number;
      readonly latency: LatencyHistogram | null;
      /**
       * End times (epoch ms) of the sampling periods of the window that have a request point,
       * when the read asked for them (see ReadOptions.periodMs); absent otherwise.
       */
      readonly periods?: readonly number[];
    }
  | { readonly kind: 'noData'; readonly reason: string };

export interface AnalysisWindow {
  /** Index of the last window of the step this measurement covers (1-based). */
  readonly index: number;
  readonly start: number;
  readonly end: number;
}

export interface Measurement {
  readonly window: AnalysisWindow;
  /** The split that was live during the window (nominal; the counts give the actual one). */
  readonly weights: Weights;
  readonly stable: BackendReading;
  readonly canary: BackendReading;
}

export type Verdict = 'pass' | 'fail' | 'inconclusive';

/** JSON-safe accumulators a judge carries between windows (stored on the rollout). */
export type JudgeState = { readonly [key: string]: number | readonly number[] | string | boolean | null };

export type EvidenceValue = number | string | boolean | null;

export interface Judgement {
  readonly verdict: Verdict;
  /** One line a person can read: why this verdict. */
  readonly summary: string;
  readonly evidence: { readonly [key: string]: EvidenceValue };
  /** Canary requests this window contributed as evidence (0 when it had no data). */
  readonly canaryRequests: number;
  /**
   * Inconclusive only because its canary requests are pooled with the next windows' until there
   * are enough to check (low traffic): not a data problem, so it does not count towards the
   * inconclusive limit.
   */
  readonly collecting?: boolean;
  readonly state: JudgeState;
}

export interface Judge {
  readonly name: string;
  judge(measurement: Measurement, prior: JudgeState | null, config: AnalysisPlan): Judgement;
}
