/**
 * How the local mesh reports each request it served, so the local Monitoring API holds the
 * same series Cloud Run writes: run.googleapis.com/request_count and request_latencies on
 * cloud_run_revision, labelled by service and response code class.
 */
export interface RequestSample {
  /** Cloud Run service name (resource label service_name). */
  readonly service: string;
  readonly responseCode: number;
  readonly latencyMs: number;
  /** When the request ended (ms since the epoch); default: when it is recorded. */
  readonly at?: number;
}

export interface RequestRecorder {
  record(sample: RequestSample): void;
  /** Writes everything recorded so far. */
  flush(): Promise<void>;
  close(): Promise<void>;
}
