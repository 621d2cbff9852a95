/**
 * The series Cloud Run writes for request metrics, as CreateTimeSeries input:
 * run.googleapis.com/request_count (DELTA INT64) and run.googleapis.com/request_latencies
 * (DELTA DISTRIBUTION, milliseconds, exponential buckets) on the cloud_run_revision resource,
 * labelled response_code and response_code_class ("5xx").
 */
import type { BucketOptions } from './model.ts';

export const REQUEST_COUNT = 'run.googleapis.com/request_count';
export const REQUEST_LATENCIES = 'run.googleapis.com/request_latencies';
export const CLOUD_RUN_REVISION = 'cloud_run_revision';

/**
 * Latency buckets in ms: 1 ms · 1.4^i, 66 finite buckets (up to ≈ 4.3e9 ms). The growth
 * factor 1.4 matches Google's serving-latency metrics; the exact layout Cloud Run uses is not
 * documented, and readers must take the layout from each point, never assume this one.
 */
export const CLOUD_RUN_LATENCY_BUCKETS: Extract<BucketOptions, { kind: 'exponential' }> = {
  kind: 'exponential',
  numFiniteBuckets: 66,
  growthFactor: 1.4,
  scale: 1,
};

export function responseCodeClass(code: number): string {
  return `${Math.floor(code / 100)}xx`;
}

export interface RevisionResource {
  readonly project: string;
  readonly service: string;
  readonly revision: string;
  readonly location: string;
}

export function revisionLabels(r: RevisionResource): Record<string, string> {
  return {
    project_id: r.project,
    service_name: r.service,
    revision_name: r.revision,
    configuration_name: r.service,
    location: r.location,
  };
}

/** Wire timestamp of epoch milliseconds (whole ms). */
export function wireTime(ms: number): { seconds: number; nanos: number } {
  const whole = Math.floor(ms);
  return { seconds: Math.floor(whole / 1000), nanos: (whole % 1000) * 1_000_000 };
}
