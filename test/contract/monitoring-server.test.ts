/**
 * The local Monitoring API driven through the official MetricServiceClient, as the recorder
 * and the adapter drive it: CreateTimeSeries rules (200 series, one point, newer points,
 * all-or-nothing), ListTimeSeries output as the real client sees it (int64 strings, newest
 * first, HEADERS view, pages) and INVALID_ARGUMENT naming each unsupported part.
 */
import { MetricServiceClient } from '@google-cloud/monitoring';
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MonitoringServer, startMonitoringServer } from '../../local/monitoring/server.ts';

type Aggregation = NonNullable<Parameters<MetricServiceClient['listTimeSeries']>[0]['aggregation']>;

const PROJECT = 'monitoring-server-contract';
const NAME = `projects/${PROJECT}`;
/** Whole seconds, two hours ago. */
const B = Math.floor(Date.now() / 60_000) * 60 - 7200;
const METRIC = 'custom.googleapis.com/contract/count';

let server: MonitoringServer;
let client: MetricServiceClient;

beforeAll(async () => {
  server = await startMonitoringServer({ minAlignmentPeriodMs: 10_000 });
  client = new MetricServiceClient({
    apiEndpoint: server.endpoint.host,
    port: server.endpoint.port,
    sslCreds: credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  });
});

afterAll(async () => {
  await client.close();
  await server.close();
});

function series(task: string, start: number, end: number, value: number, metric = METRIC) {
  return {
    metric: { type: metric, labels: { kind: 'a' } },
    resource: { type: 'generic_task', labels: { task_id: task, job: 'j' } },
    metricKind: 'DELTA' as const,
    valueType: 'INT64' as const,
    points: [
      {
        interval: { startTime: { seconds: B + start }, endTime: { seconds: B + end } },
        value: { int64Value: value },
      },
    ],
  };
}

async function failure(call: Promise<unknown>): Promise<{ code: number; details: string }> {
  const error = await call.then(
    () => null,
    (e: unknown) => e as { code: number; details: string },
  );
  if (error === null) throw new Error('expected the call to fail');
  return error;
}

const interval = (from: number, to: number) => ({
  startTime: { seconds: B + from },
  endTime: { seconds: B + to },
});

describe('CreateTimeSeries', () => {
  it('stores one point per series and refuses a point not newer than the last, storing nothing of that request', async () => {
    await client.createTimeSeries({ name: NAME, timeSeries: [series('t1', 0, 10, 1)] });
    const stale = await failure(
      client.createTimeSeries({ name: NAME, timeSeries: [series('t2', 0, 10, 5), series('t1', 5, 10, 1)] }),
    );
    expect(stale.code).toBe(3);
    expect(stale.details).toMatch(/timeSeries\[1\].*Points must be written in order/);
    const [t2] = await client.listTimeSeries({
      name: NAME,
      filter: `metric.type = "${METRIC}" AND resource.labels.task_id = "t2"`,
      interval: interval(0, 100),
    });
    expect(t2).toEqual([]);
  });

  it('refuses more than 200 series, several points, duplicate series and a changed value type', async () => {
    const many = Array.from({ length: 201 }, (_, i) => series(`m${i}`, 20, 30, 1));
    expect((await failure(client.createTimeSeries({ name: NAME, timeSeries: many }))).details).toMatch(
      /at most 200/,
    );
    const two = series('x', 20, 30, 1);
    const twoPoints = { ...two, points: [...two.points, ...two.points] };
    expect((await failure(client.createTimeSeries({ name: NAME, timeSeries: [twoPoints] }))).details).toMatch(
      /exactly one point/,
    );
    expect(
      (
        await failure(
          client.createTimeSeries({
            name: NAME,
            timeSeries: [series('d', 20, 30, 1), series('d', 20, 30, 2)],
          }),
        )
      ).details,
    ).toMatch(/Duplicate TimeSeries/);
    const double = {
      ...series('t1', 40, 50, 1),
      valueType: 'DOUBLE' as const,
      points: [{ interval: interval(40, 50), value: { doubleValue: 1.5 } }],
    };
    expect((await failure(client.createTimeSeries({ name: NAME, timeSeries: [double] }))).details).toMatch(
      /is DELTA INT64, not DELTA DOUBLE/,
    );
  });

  it('refuses a DELTA point without a start before its end', async () => {
    expect(
      (await failure(client.createTimeSeries({ name: NAME, timeSeries: [series('z', 30, 30, 1)] }))).details,
    ).toMatch(/DELTA point needs a start time earlier than its end time/);
  });
});

describe('ListTimeSeries', () => {
  const M = 'custom.googleapis.com/contract/list';
  beforeAll(async () => {
    for (const [start, end] of [
      [100, 110],
      [110, 125],
      [125, 140],
    ] as const) {
      await client.createTimeSeries({
        name: NAME,
        timeSeries: ['a', 'b', 'c'].map((task, i) => series(task, start, end, end - start + i, M)),
      });
    }
  });

  it('returns raw points newest first with int64 values as strings', async () => {
    const [out] = await client.listTimeSeries({
      name: NAME,
      filter: `metric.type = "${M}" AND resource.labels.task_id = "a"`,
      interval: interval(100, 140),
    });
    expect(out).toHaveLength(1);
    expect(out[0]?.points?.map((p) => [p.interval?.endTime?.seconds, p.value?.int64Value])).toEqual([
      [String(B + 140), '15'],
      [String(B + 125), '15'],
      [String(B + 110), '10'],
    ]);
    expect(out[0]?.metricKind).toBe('DELTA');
  });

  it('aligns and reduces: ALIGN_DELTA + REDUCE_SUM per window, ALIGN_RATE per second', async () => {
    const [sum] = await client.listTimeSeries({
      name: NAME,
      filter: `metric.type = "${M}"`,
      interval: interval(100, 140),
      aggregation: {
        alignmentPeriod: { seconds: 20 },
        perSeriesAligner: 'ALIGN_DELTA',
        crossSeriesReducer: 'REDUCE_SUM',
      },
    });
    // Windows (120, 140] and (100, 120]: points ending 125, 140 and 110.
    expect(
      sum[0]?.points?.map((p) => [
        p.interval?.endTime?.seconds,
        p.interval?.startTime?.seconds,
        p.value?.int64Value,
      ]),
    ).toEqual([
      [String(B + 140), String(B + 120), String(15 + 16 + 17 + 15 + 16 + 17)],
      [String(B + 120), String(B + 100), String(10 + 11 + 12)],
    ]);
    const [rate] = await client.listTimeSeries({
      name: NAME,
      filter: `metric.type = "${M}" AND resource.labels.task_id = "a"`,
      interval: interval(100, 140),
      aggregation: { alignmentPeriod: { seconds: 40 }, perSeriesAligner: 'ALIGN_RATE' },
    });
    expect(rate[0]?.points?.[0]?.value?.doubleValue).toBe(40 / 40);
    expect(rate[0]?.valueType).toBe('DOUBLE');
  });

  it('aligns distributions: ALIGN_DELTA merges buckets, percentile aligners interpolate within a bucket', async () => {
    const D = 'custom.googleapis.com/contract/latency';
    // Buckets: (-∞,10] (10,50] (50,100] (100,500] (500,∞); two windows of one task.
    const point = (start: number, end: number, counts: number[]) => ({
      metric: { type: D, labels: {} },
      resource: { type: 'generic_task', labels: { task_id: 'd', job: 'j' } },
      metricKind: 'DELTA' as const,
      valueType: 'DISTRIBUTION' as const,
      points: [
        {
          interval: { startTime: { seconds: B + start }, endTime: { seconds: B + end } },
          value: {
            distributionValue: {
              count: counts.reduce((a, b) => a + b, 0),
              bucketOptions: { explicitBuckets: { bounds: [10, 50, 100, 500] } },
              bucketCounts: counts,
            },
          },
        },
      ],
    });
    await client.createTimeSeries({ name: NAME, timeSeries: [point(100, 110, [0, 450, 45, 5, 0])] });
    await client.createTimeSeries({ name: NAME, timeSeries: [point(110, 120, [0, 450, 45, 5, 0])] });
    const aggregated = async (
      perSeriesAligner: 'ALIGN_DELTA' | 'ALIGN_PERCENTILE_99' | 'ALIGN_PERCENTILE_50',
    ) => {
      const [out] = await client.listTimeSeries({
        name: NAME,
        filter: `metric.type = "${D}"`,
        interval: interval(100, 120),
        aggregation: { alignmentPeriod: { seconds: 20 }, perSeriesAligner },
      });
      expect(out).toHaveLength(1);
      return out[0];
    };
    const merged = await aggregated('ALIGN_DELTA');
    expect(merged?.valueType).toBe('DISTRIBUTION');
    expect(merged?.points?.[0]?.value?.distributionValue?.count).toBe('1000');
    expect(merged?.points?.[0]?.value?.distributionValue?.bucketCounts).toEqual(['0', '900', '90', '10']);
    const p99 = await aggregated('ALIGN_PERCENTILE_99');
    expect(p99?.valueType).toBe('DOUBLE');
    const v99 = p99?.points?.[0]?.value?.doubleValue ?? Number.NaN;
    // Rank 990 of 1000 is the last request of the (50,100] bucket.
    expect(v99).toBeGreaterThan(50);
    expect(v99).toBeLessThanOrEqual(100);
    const p50 = (await aggregated('ALIGN_PERCENTILE_50'))?.points?.[0]?.value?.doubleValue ?? Number.NaN;
    expect(p50).toBeGreaterThan(10);
    expect(p50).toBeLessThanOrEqual(50);
  });

  it('HEADERS view lists series without points', async () => {
    const [out] = await client.listTimeSeries({
      name: NAME,
      filter: `metric.type = "${M}"`,
      interval: interval(100, 140),
      view: 'HEADERS',
    });
    expect(out.map((s) => s.resource?.labels?.['task_id'])).toEqual(['a', 'b', 'c']);
    expect(out.every((s) => (s.points ?? []).length === 0)).toBe(true);
  });

  it('pages by points in the FULL view; the client follows pages; a token only fits its own request', async () => {
    const [first, , response] = await client.listTimeSeries(
      { name: NAME, filter: `metric.type = "${M}"`, interval: interval(100, 140), pageSize: 4 },
      { autoPaginate: false },
    );
    // Each series has three points: one whole series fits in four points.
    expect(first).toHaveLength(1);
    expect(response.nextPageToken).not.toBe('');
    const before = server.calls.list;
    const [all] = await client.listTimeSeries({
      name: NAME,
      filter: `metric.type = "${M}"`,
      interval: interval(100, 140),
      pageSize: 4,
    });
    expect(all.map((s) => s.resource?.labels?.['task_id'])).toEqual(['a', 'b', 'c']);
    expect(server.calls.list - before).toBe(3);
    const wrong = await failure(
      client.listTimeSeries(
        {
          name: NAME,
          filter: `metric.type = "${M}" AND resource.labels.task_id = "a"`,
          interval: interval(100, 140),
          pageToken: response.nextPageToken ?? '',
        },
        { autoPaginate: false },
      ),
    );
    expect(wrong.details).toMatch(/pageToken .*different filter/);
  });

  it.each<[Aggregation, string]>([
    [{ perSeriesAligner: 'ALIGN_MEAN' }, 'perSeriesAligner ALIGN_MEAN'],
    [
      { perSeriesAligner: 'ALIGN_DELTA', crossSeriesReducer: 'REDUCE_MEAN' },
      'crossSeriesReducer REDUCE_MEAN',
    ],
    [
      {
        perSeriesAligner: 'ALIGN_DELTA',
        crossSeriesReducer: 'REDUCE_SUM',
        groupByFields: ['metadata.system_labels.zone'],
      },
      "groupByFields entry 'metadata.system_labels.zone'",
    ],
    [{ perSeriesAligner: 'ALIGN_NONE', crossSeriesReducer: 'REDUCE_SUM' }, 'needs a perSeriesAligner'],
  ])('refuses aggregation %o naming %s', async (aggregation, part) => {
    const error = await failure(
      client.listTimeSeries({
        name: NAME,
        filter: `metric.type = "${M}"`,
        interval: interval(100, 140),
        aggregation: { alignmentPeriod: { seconds: 20 }, ...aggregation },
      }),
    );
    expect(error.code).toBe(3);
    expect(error.details).toContain(part);
  });

  it('refuses a period under the configured minimum, secondaryAggregation, orderBy and a filter without metric.type', async () => {
    const base = { name: NAME, filter: `metric.type = "${M}"`, interval: interval(100, 140) };
    const short = await failure(
      client.listTimeSeries({
        ...base,
        aggregation: { alignmentPeriod: { seconds: 5 }, perSeriesAligner: 'ALIGN_DELTA' },
      }),
    );
    expect(short.details).toMatch(/alignmentPeriod .*at least 10s \(got 5s\)/);
    const secondary = await failure(
      client.listTimeSeries({
        ...base,
        aggregation: { alignmentPeriod: { seconds: 20 }, perSeriesAligner: 'ALIGN_DELTA' },
        secondaryAggregation: { alignmentPeriod: { seconds: 20 }, perSeriesAligner: 'ALIGN_DELTA' },
      }),
    );
    expect(secondary.details).toMatch(/secondaryAggregation is not supported/);
    expect((await failure(client.listTimeSeries({ ...base, orderBy: 'x' }))).details).toMatch(/orderBy/);
    expect(
      (await failure(client.listTimeSeries({ ...base, filter: 'resource.type = "generic_task"' }))).details,
    ).toMatch(/exactly one metric type/);
  });

  it('answers UNIMPLEMENTED for methods outside the local subset', async () => {
    expect((await failure(client.listMetricDescriptors({ name: NAME }))).code).toBe(12);
  });
});
