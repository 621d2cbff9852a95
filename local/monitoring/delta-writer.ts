/**
 * Writes DELTA series into the local Monitoring API the way Google's own writers do (Cloud Run
 * request metrics, log-based metrics): samples are counted per series and sampling period and
 * each period with samples becomes ONE point, through the official
 * MetricServiceClient.createTimeSeries. Shared by the Cloud Run recorder and the writers of
 * gRPC server and mesh connection metrics; what a series looks like is the caller's.
 *
 * Sampling. With `samplingPeriodMs` (Google's timing: 60 s, scaled), a sample counts in the
 * period that holds the moment it ended, and each period with samples becomes ONE point
 * [k·P, (k+1)·P] written once the period is over — periods on multiples of P since the epoch,
 * as Google's points fall on minute boundaries; a period without samples has no point.
 * Without it (the ideal switch), each flush (every `flushMs`) writes what was recorded since
 * the series' previous point, ending now.
 *
 * Exactly once: each flush turns what was recorded into points and queues them. Queued requests
 * are sent in order and, when a send fails, retried unchanged before anything newer is cut — the
 * server refuses a point that is not newer than the series' last one, so a retried request that
 * had in fact been stored cannot be counted twice (it comes back INVALID_ARGUMENT and is
 * dropped), and nothing is lost to a transient failure.
 */
import { MetricServiceClient } from '@google-cloud/monitoring';
import { credentials } from '@grpc/grpc-js';
import { wireTime } from './cloud-run-series.ts';
import { LatencyAccumulator } from './latency-accumulator.ts';
import type { BucketOptions } from './model.ts';

/** One series' samples of one period, ready to become a point. */
export interface DeltaEntry<S> {
  /** The first sample of the series (its labels are the series' labels). */
  readonly sample: S;
  readonly count: number;
  readonly latency: LatencyAccumulator;
  /** The point's interval as CreateTimeSeries wants it. */
  readonly interval: { readonly startTime: WireTime; readonly endTime: WireTime };
}

export interface WireTime {
  readonly seconds: number;
  readonly nanos: number;
}

export interface DeltaWriterOptions<S> {
  /** The local Monitoring server. */
  readonly endpoint: { readonly host: string; readonly port: number };
  /** Project the series are written to. */
  readonly project: string;
  /** How often the writer looks for points to write; default 1000 ms. */
  readonly flushMs?: number;
  /** Length of one point (Google: 60 s); default none: every flush writes what it has. */
  readonly samplingPeriodMs?: number | null;
  readonly latencyBuckets: BucketOptions;
  /** Identity of the series a sample belongs to (samples with the same id share points). */
  readonly seriesId: (sample: S) => string;
  /** The CreateTimeSeries series (one point each) of one entry. */
  readonly series: (entry: DeltaEntry<S>) => Record<string, unknown>[];
  /** What is written, for error messages ("request metrics"). */
  readonly what: string;
  readonly now?: () => number;
  /** Failures of the periodic flush (the data stays queued); default: logged to stderr. */
  readonly onError?: (error: Error) => void;
}

interface Pending<S> {
  readonly id: string;
  readonly sample: S;
  /** Sampling period index (k of [k·P, (k+1)·P]); null when not sampling. */
  readonly period: number | null;
  readonly firstAt: number;
  count: number;
  readonly latency: LatencyAccumulator;
}

const MAX_SERIES_PER_REQUEST = 200;
const INVALID_ARGUMENT = 3;

export class DeltaWriter<S> {
  readonly #client: MetricServiceClient;
  readonly #options: DeltaWriterOptions<S>;
  readonly #now: () => number;
  readonly #pending = new Map<string, Pending<S>>();
  /** End (ms) of the last point cut per series id. */
  readonly #lastEnd = new Map<string, number>();
  /** Requests cut but not yet stored, oldest first. */
  readonly #queue: Record<string, unknown>[][] = [];
  readonly #timer: NodeJS.Timeout;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(options: DeltaWriterOptions<S>) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#client = new MetricServiceClient({
      apiEndpoint: options.endpoint.host,
      port: options.endpoint.port,
      sslCreds: credentials.createInsecure(),
      universeDomain: 'googleapis.com',
      projectId: options.project,
    });
    const onError = options.onError ?? ((e: Error) => console.error(`${options.what}: ${e.message}`));
    this.#timer = setInterval(() => {
      this.flush().catch((e: unknown) => onError(e as Error));
    }, options.flushMs ?? 1000);
    this.#timer.unref();
  }

  /** Counts one sample that ended at `at` (default now), with its latency. */
  add(sample: S, latencyMs: number, at?: number): void {
    if (this.#closed) throw new Error(`the ${this.#options.what} writer is closed; start a new one`);
    const ended = at ?? this.#now();
    const sampling = this.#options.samplingPeriodMs ?? null;
    const period = sampling === null ? null : Math.floor(ended / sampling);
    const id = this.#options.seriesId(sample);
    const key = `${period ?? ''}\u0000${id}`;
    let entry = this.#pending.get(key);
    if (!entry) {
      entry = {
        id,
        sample,
        period,
        firstAt: ended,
        count: 0,
        latency: new LatencyAccumulator(this.#options.latencyBuckets),
      };
      this.#pending.set(key, entry);
    }
    entry.count += 1;
    entry.latency.add(latencyMs);
  }

  /**
   * Writes what is due: when sampling, the points of periods that are over (`all` also cuts the
   * current period short, as a writer that stops writes its last point); otherwise everything.
   */
  flush(all = false): Promise<void> {
    const run = this.#chain.then(() => this.#flushOnce(all));
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    try {
      await this.flush(true);
    } finally {
      await this.#client.close();
    }
  }

  async #flushOnce(all: boolean): Promise<void> {
    await this.#drain();
    if (this.#pending.size === 0) return;
    // One request holds at most one point per series: each period is sent on its own, oldest first.
    for (const series of this.#cut(all)) {
      for (let i = 0; i < series.length; i += MAX_SERIES_PER_REQUEST) {
        this.#queue.push(series.slice(i, i + MAX_SERIES_PER_REQUEST));
      }
    }
    await this.#drain();
  }

  /** Sends queued requests in order; stops at the first that may succeed later. */
  async #drain(): Promise<void> {
    const refused: string[] = [];
    while (this.#queue.length > 0) {
      const request = this.#queue[0] ?? [];
      try {
        await this.#client.createTimeSeries({
          name: `projects/${this.#options.project}`,
          timeSeries: request,
        });
      } catch (error) {
        if ((error as { code?: unknown }).code !== INVALID_ARGUMENT) {
          throw new Error(
            `writing ${this.#options.what} failed (kept for the next flush): ${(error as Error).message}`,
            { cause: error },
          );
        }
        // Refused for good: stored by an attempt whose answer was lost, or unwritable.
        refused.push((error as Error).message);
      }
      this.#queue.shift();
    }
    if (refused.length > 0) {
      throw new Error(`the Monitoring API refused ${this.#options.what}: ${refused.join('; ')}`);
    }
  }

  /** Entries due now, grouped by sampling period (oldest first); they are forgotten here. */
  #due(all: boolean, now: number): Pending<S>[][] {
    const sampling = this.#options.samplingPeriodMs ?? null;
    const current = sampling === null ? null : Math.floor(now / sampling);
    const byPeriod = new Map<number, Pending<S>[]>();
    for (const [key, p] of this.#pending) {
      const period = p.period ?? -1;
      if (!all && current !== null && period >= current) continue;
      this.#pending.delete(key);
      const group = byPeriod.get(period);
      if (group === undefined) byPeriod.set(period, [p]);
      else group.push(p);
    }
    return [...byPeriod.keys()].sort((a, b) => a - b).map((k) => byPeriod.get(k) ?? []);
  }

  /** The interval of an entry's point: its sampling period, or since the series' last point. */
  #interval(p: Pending<S>, now: number): { start: number; end: number } {
    const sampling = this.#options.samplingPeriodMs ?? null;
    const previous = this.#lastEnd.get(p.id);
    if (sampling !== null && p.period !== null) {
      const start = Math.max(p.period * sampling, previous ?? 0);
      const periodEnd = (p.period + 1) * sampling;
      const end = now >= periodEnd ? periodEnd : Math.max(now, start + 1);
      return { start, end };
    }
    const end = previous === undefined ? now : Math.max(now, previous + 1);
    return { start: previous ?? Math.min(Math.floor(p.firstAt), end - 1), end };
  }

  /** Turns what is due into one point per series and period. */
  #cut(all: boolean): Record<string, unknown>[][] {
    const now = Math.floor(this.#now());
    return this.#due(all, now).map((entries) =>
      entries.flatMap((p) => {
        const { start, end } = this.#interval(p, now);
        this.#lastEnd.set(p.id, end);
        return this.#options.series({
          sample: p.sample,
          count: p.count,
          latency: p.latency,
          interval: { startTime: wireTime(start), endTime: wireTime(end) },
        });
      }),
    );
  }
}
