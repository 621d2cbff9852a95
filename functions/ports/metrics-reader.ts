/**
 * Port: request counts, 5xx counts and latency of one backend over a time window
 * (production adapter: Cloud Monitoring v3).
 */
import type { BackendReading } from '../core/analysis/verdict.ts';
import type { MetricSource } from '../core/request.ts';

export interface TimeWindow {
  /**
   * Epoch milliseconds: the traffic from start (inclusive) to end (exclusive). Sources that
   * write one point per sampling period count exactly this traffic only when both are sampling
   * boundaries (the core's windows are); a point counts in the window holding its end time.
   */
  readonly start: number;
  readonly end: number;
}

export interface ReadOptions {
  /** Also read the latency distribution (default true); skipped when no latency check needs it. */
  readonly latency?: boolean;
  /**
   * Read the window period by period (the source's sampling period) and report, in `periods`,
   * which periods already have a request point: the ingestion frontier.
   */
  readonly periodMs?: number;
}

export interface MetricsReader {
  /**
   * Totals of the window. No time series at all is `{kind: 'noData'}` — never zero errors.
   * Throws ControllerError (TransientError when trying again may help).
   */
  read(source: MetricSource, window: TimeWindow, options?: ReadOptions): Promise<BackendReading>;
}
