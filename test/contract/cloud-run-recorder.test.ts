/**
 * The request recorder against the local Monitoring server: what it writes is what Cloud Run
 * writes (metric and resource labels, DELTA kinds, distribution buckets), flushes of more
 * than 200 series are split, and a flush that fails (server down) loses nothing and counts
 * nothing twice once the server is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudRunRecorder } from '../../local/monitoring/cloud-run-recorder.ts';
import { parseFilter } from '../../local/monitoring/filter.ts';
import type { TimeSeries } from '../../local/monitoring/model.ts';
import { SeriesStore } from '../../local/monitoring/series-store.ts';
import { type MonitoringServer, startMonitoringServer } from '../../local/monitoring/server.ts';
import { nanosFromMs } from '../../local/monitoring/time.ts';

const PROJECT = 'recorder-contract';

function totals(server: MonitoringServer, metricType: string, filter = ''): TimeSeries[] {
  const now = Date.now();
  return server.query(PROJECT, {
    filter: parseFilter(`metric.type = "${metricType}"${filter}`),
    interval: { start: nanosFromMs(now - 3_600_000), end: nanosFromMs(now + 60_000) },
    aggregation: {
      periodNanos: nanosFromMs(3_660_000),
      aligner: 'ALIGN_DELTA',
      reducer: 'REDUCE_SUM',
      groupBy: [
        { kind: 'resourceLabel', key: 'service_name' },
        { kind: 'metricLabel', key: 'response_code_class' },
      ],
    },
  });
}

function count(series: readonly TimeSeries[], service: string, responseClass: string): number {
  const s = series.find(
    (x) =>
      x.resource.labels['service_name'] === service &&
      x.metric.labels['response_code_class'] === responseClass,
  );
  const v = s?.points[0]?.value;
  if (v === undefined) return 0;
  return v.type === 'DISTRIBUTION' ? v.value.count : v.value;
}

describe('series as Cloud Run writes them', () => {
  let server: MonitoringServer;
  let recorder: CloudRunRecorder;

  beforeAll(async () => {
    server = await startMonitoringServer();
    recorder = new CloudRunRecorder({
      endpoint: server.endpoint,
      project: PROJECT,
      location: 'europe-west4',
      flushMs: 3_600_000,
    });
  });
  afterAll(async () => {
    await recorder.close();
    await server.close();
  });

  it('writes request_count (DELTA INT64) and request_latencies (DELTA DISTRIBUTION) on cloud_run_revision', async () => {
    recorder.record({ service: 'shop', responseCode: 503, latencyMs: 3 });
    recorder.record({ service: 'shop', responseCode: 503, latencyMs: 300 });
    await recorder.flush();
    const [countSeries] = server.store.series(PROJECT, 'run.googleapis.com/request_count');
    expect(countSeries).toMatchObject({
      metric: { labels: { response_code: '503', response_code_class: '5xx' } },
      resource: {
        type: 'cloud_run_revision',
        labels: {
          project_id: PROJECT,
          service_name: 'shop',
          configuration_name: 'shop',
          revision_name: 'shop-00001-loc',
          location: 'europe-west4',
        },
      },
      metricKind: 'DELTA',
      valueType: 'INT64',
    });
    expect(countSeries?.points[0]?.value).toEqual({ type: 'INT64', value: 2 });
    const [latency] = server.store.series(PROJECT, 'run.googleapis.com/request_latencies');
    const d = latency?.points[0]?.value;
    expect(latency?.metricKind).toBe('DELTA');
    expect(d?.type).toBe('DISTRIBUTION');
    if (d?.type !== 'DISTRIBUTION') return;
    expect(d.value.bucketOptions).toEqual({
      kind: 'exponential',
      numFiniteBuckets: 66,
      growthFactor: 1.4,
      scale: 1,
    });
    expect(d.value.count).toBe(2);
    expect(d.value.mean).toBe(151.5);
    // 3 ms lies in [1.4^3, 1.4^4) = bucket 4; 300 ms in [1.4^16, 1.4^17) = bucket 17.
    expect(d.value.bucketCounts.flatMap((c, i) => (c > 0 ? [i] : []))).toEqual([4, 17]);
  });

  it('splits a flush of more than 200 series into several requests and loses none', async () => {
    const before = server.calls.create;
    for (let s = 0; s < 150; s += 1) {
      for (let i = 0; i < 3; i += 1)
        recorder.record({ service: `svc-${s}`, responseCode: 200, latencyMs: 10 });
      recorder.record({ service: `svc-${s}`, responseCode: 500, latencyMs: 10 });
    }
    await recorder.flush();
    // 150 services × 2 codes × 2 metrics = 600 series, at most 200 per request.
    expect(server.calls.create - before).toBe(3);
    const counts = totals(
      server,
      'run.googleapis.com/request_count',
      ' AND resource.labels.service_name != "shop"',
    );
    expect(counts).toHaveLength(300);
    for (let s = 0; s < 150; s += 1) {
      expect([count(counts, `svc-${s}`, '2xx'), count(counts, `svc-${s}`, '5xx')]).toEqual([3, 1]);
    }
  });
});

describe('a flush while the server is down', () => {
  it('keeps what was recorded and writes it once when the server is back', async () => {
    const store = new SeriesStore();
    let server = await startMonitoringServer({ store });
    const { port } = server.endpoint;
    const errors: string[] = [];
    const recorder = new CloudRunRecorder({
      endpoint: server.endpoint,
      project: PROJECT,
      flushMs: 3_600_000,
      onError: (e) => errors.push(e.message),
    });
    try {
      for (let i = 0; i < 10; i += 1) recorder.record({ service: 'outage', responseCode: 200, latencyMs: 5 });
      await recorder.flush();
      await server.close();

      for (let i = 0; i < 4; i += 1) recorder.record({ service: 'outage', responseCode: 502, latencyMs: 5 });
      await expect(recorder.flush()).rejects.toThrow(/kept for the next flush/);
      for (let i = 0; i < 5; i += 1) recorder.record({ service: 'outage', responseCode: 200, latencyMs: 5 });

      server = await startMonitoringServer({ store, port });
      // The client reconnects with backoff; flushing again until it does is what the timer would do.
      const deadline = Date.now() + 30_000;
      for (;;) {
        try {
          await recorder.flush();
          break;
        } catch (error) {
          if (Date.now() > deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
      const counts = totals(
        server,
        'run.googleapis.com/request_count',
        ' AND resource.labels.service_name = "outage"',
      );
      expect([count(counts, 'outage', '2xx'), count(counts, 'outage', '5xx')]).toEqual([15, 4]);
      const latencies = totals(
        server,
        'run.googleapis.com/request_latencies',
        ' AND resource.labels.service_name = "outage"',
      );
      expect([count(latencies, 'outage', '2xx'), count(latencies, 'outage', '5xx')]).toEqual([15, 4]);
    } finally {
      await recorder.close();
      await server.close();
    }
  });
});
