/**
 * The MetricService handlers of the local Monitoring API: CreateTimeSeries and ListTimeSeries.
 * Other methods answer UNIMPLEMENTED (grpc-js does that for handlers not given).
 */
import {
  type ServerUnaryCall,
  type sendUnaryData,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { MonitoringApiError } from './api-error.ts';
import { type ListRequestLimits, parseListRequest } from './list-request.ts';
import { Paginator } from './pages.ts';
import { runQuery } from './query.ts';
import type { SeriesStore } from './series-store.ts';
import { incomingPoint } from './wire-decode.ts';
import { wireTimeSeries } from './wire-encode.ts';
import type { WireCreateTimeSeriesRequest, WireListTimeSeriesRequest } from './wire-types.ts';

export interface CallCounts {
  list: number;
  create: number;
}

function answer<T>(callback: sendUnaryData<T>, run: () => T): void {
  try {
    callback(null, run());
  } catch (error) {
    if (error instanceof MonitoringApiError) {
      callback({ code: error.code, details: error.message });
    } else {
      callback({
        code: status.INTERNAL,
        details: `local Monitoring server failed: ${(error as Error).message}`,
      });
    }
  }
}

export function metricServiceHandlers(
  store: SeriesStore,
  limits: ListRequestLimits,
  counts: CallCounts,
): UntypedServiceImplementation {
  const paginator = new Paginator();
  return {
    createTimeSeries(
      call: ServerUnaryCall<WireCreateTimeSeriesRequest, unknown>,
      callback: sendUnaryData<unknown>,
    ) {
      counts.create += 1;
      answer(callback, () => {
        const name = call.request.name ?? '';
        const project = /^projects\/([^/]+)$/.exec(name)?.[1];
        if (project === undefined) {
          throw new MonitoringApiError(
            status.INVALID_ARGUMENT,
            `Field name had an invalid value: '${name}' is not projects/PROJECT.`,
          );
        }
        store.write(project, (call.request.timeSeries ?? []).map(incomingPoint));
        return {};
      });
    },
    listTimeSeries(
      call: ServerUnaryCall<WireListTimeSeriesRequest, unknown>,
      callback: sendUnaryData<unknown>,
    ) {
      counts.list += 1;
      answer(callback, () => {
        const request = parseListRequest(call.request, limits);
        const page = paginator.page(request, () => runQuery(store, request.project, request.query));
        return {
          timeSeries: page.series.map((s) => wireTimeSeries(s, request.view === 'FULL')),
          nextPageToken: page.nextPageToken,
          executionErrors: [],
          unit: '',
        };
      });
    },
  };
}
