/**
 * One evaluation of a threshold condition at an instant: the numerator query (and the
 * denominator one for a ratio) over the single alignment window that ends at that instant,
 * with the same filter and aggregation code as ListTimeSeries, so a DELTA point counts in the
 * window that holds its end time exactly as the metrics adapter reads it. Alignment periods
 * are divided by `timeScale` for scaled local runs.
 *
 * Ratio: series of numerator and denominator are joined on their labels after aggregation;
 * a denominator series without a numerator one is 0 / d (no 5xx series means no 5xx); a zero
 * or missing denominator gives no value for that series.
 */
import type { TimeSeriesQuery } from '../monitoring/list-request.ts';
import type { Labelled, TimeSeries } from '../monitoring/model.ts';
import { AlertPolicyError, type Condition, type ThresholdQuery } from './policy.ts';

export interface SeriesSource {
  query(project: string, query: TimeSeriesQuery): readonly TimeSeries[];
}

export interface Observation {
  /** Identity of the aggregated series (resource type and the grouped labels). */
  readonly key: string;
  readonly resource: Labelled;
  readonly metric: Labelled;
  readonly value: number;
  readonly violating: boolean;
}

function sorted(labels: Readonly<Record<string, string>>): [string, string][] {
  return Object.keys(labels)
    .sort()
    .map((k) => [k, labels[k] ?? '']);
}

function keyOf(s: TimeSeries): string {
  return JSON.stringify([s.resource.type, sorted(s.resource.labels), sorted(s.metric.labels)]);
}

/** How far back the evaluator looks for ingested points, in alignment periods. */
const LOOKBACK_PERIODS = 10n;

/**
 * The end of the newest point Monitoring has ingested for the query, at or before `at`: alerting
 * evaluates the data it has, so with points that arrive minutes late it judges minutes-old
 * traffic (null: nothing ingested recently). A ratio is evaluated at the denominator's newest
 * point, so numerator and denominator cover the same period.
 */
function periodOf(q: ThresholdQuery, timeScale: number): bigint {
  return BigInt(Math.max(1, Math.round(Number(q.aggregation.periodNanos) / timeScale)));
}

function ingestedUntil(
  source: SeriesSource,
  project: string,
  q: ThresholdQuery,
  at: bigint,
  period: bigint,
): bigint | null {
  const raw = source.query(project, {
    filter: q.filter,
    interval: { start: at - LOOKBACK_PERIODS * period, end: at },
    aggregation: null,
  });
  let newest: bigint | null = null;
  for (const s of raw) {
    const end = s.points[0]?.end;
    if (end !== undefined && (newest === null || end > newest)) newest = end;
  }
  return newest;
}

function valuesOf(
  condition: Condition,
  source: SeriesSource,
  project: string,
  q: ThresholdQuery,
  end: bigint,
  timeScale: number,
): Map<string, { series: TimeSeries; value: number }> {
  const period = periodOf(q, timeScale);
  const series = source.query(project, {
    filter: q.filter,
    interval: { start: end - period, end },
    aggregation: { ...q.aggregation, periodNanos: period },
  });
  const out = new Map<string, { series: TimeSeries; value: number }>();
  for (const s of series) {
    const newest = s.points[0];
    if (newest === undefined) continue;
    if (newest.value.type === 'DISTRIBUTION') {
      throw new AlertPolicyError(
        `condition ${condition.displayName} yields distributions; align with ALIGN_PERCENTILE_* to compare a number`,
      );
    }
    out.set(keyOf(s), { series: s, value: newest.value.value });
  }
  return out;
}

export function observe(
  condition: Condition,
  source: SeriesSource,
  project: string,
  at: bigint,
  timeScale: number,
): Observation[] {
  const base = condition.denominator ?? condition.numerator;
  const end = ingestedUntil(source, project, base, at, periodOf(base, timeScale));
  if (end === null) return [];
  const numerator = valuesOf(condition, source, project, condition.numerator, end, timeScale);
  const violates = (v: number) =>
    condition.comparison === 'COMPARISON_GT' ? v > condition.threshold : v < condition.threshold;
  const observation = (key: string, series: TimeSeries, value: number): Observation => ({
    key,
    resource: series.resource,
    metric: { type: condition.numerator.filter.metricType, labels: series.metric.labels },
    value,
    violating: violates(value),
  });
  if (condition.denominator === null) {
    return [...numerator].map(([key, n]) => observation(key, n.series, n.value));
  }
  const denominator = valuesOf(condition, source, project, condition.denominator, end, timeScale);
  const out: Observation[] = [];
  for (const [key, d] of denominator) {
    if (d.value === 0) continue;
    const n = numerator.get(key);
    out.push(observation(key, n?.series ?? d.series, (n?.value ?? 0) / d.value));
  }
  return out;
}
