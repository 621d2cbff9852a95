/** Runs a time series query over the store: filter, interval, aggregation. Shared by ListTimeSeries and the local alert evaluator. */
import { aggregate } from './aggregation.ts';
import { matchesFilter } from './filter.ts';
import type { TimeSeriesQuery } from './list-request.ts';
import type { TimeSeries } from './model.ts';
import type { SeriesStore } from './series-store.ts';

export function runQuery(store: SeriesStore, project: string, query: TimeSeriesQuery): TimeSeries[] {
  const candidates = store
    .series(project, query.filter.metricType)
    .filter((s) => matchesFilter(query.filter, s));
  return aggregate(candidates, query.interval, query.aggregation);
}
