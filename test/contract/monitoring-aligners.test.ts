/**
 * Aligners on sparse DELTA series, as Google documents them, through the official client:
 * ALIGN_DELTA fills a period without points that lies between two points by interpolation
 * (fractional, invented requests), ALIGN_SUM adds what was written and nothing else. The
 * production metrics adapter reads the same series with exact counts: never an invented
 * request, noData where nothing was written. Plus the ingestion delay: a written point is
 * invisible until its delay has passed, and unchanged afterwards.
 */
import { MetricServiceClient } from '@google-cloud/monitoring';
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudMonitoringMetrics } from '../../functions/adapters/cloud-monitoring-metrics.ts';
import { SeriesStore } from '../../local/monitoring/series-store.ts';
import { type MonitoringServer, startMonitoringServer } from '../../local/monitoring/server.ts';

const PROJECT = 'aligners-contract';
const MINUTE = 60;
/** A whole minute two hours ago, in seconds. */
const B = Math.floor(Date.now() / 60_000) * 60 - 7200;

let server: MonitoringServer;
let client: MetricServiceClient;
let metrics: CloudMonitoringMetrics;

beforeAll(async () => {
  server = await startMonitoringServer();
  client = new MetricServiceClient({
    apiEndpoint: server.endpoint.host,
    port: server.endpoint.port,
    sslCreds: credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  });
  metrics = new CloudMonitoringMetrics({ projectId: PROJECT, localEndpoint: server.address });
});

afterAll(async () => {
  await metrics.close();
  await client.close();
  await server.close();
});

/** [start minute, end minute, requests] of one Cloud Run revision's request_count. */
type Minute = readonly [number, number, number];

interface Case {
  readonly name: string;
  readonly points: readonly Minute[];
  /** Read interval (from, to] in minutes and the alignment period in minutes. */
  readonly read: readonly [number, number];
  readonly periodMinutes: number;
  /** Aligned values, oldest window first ([window end minute, value]). */
  readonly delta: readonly (readonly [number, number])[];
  readonly sum: readonly (readonly [number, number])[];
}

const CASES: readonly Case[] = [
  {
    name: 'dense minutes: both aligners give the written counts',
    points: [
      [0, 1, 10],
      [1, 2, 20],
      [2, 3, 30],
    ],
    read: [1, 2],
    periodMinutes: 1,
    delta: [[2, 20]],
    sum: [[2, 20]],
  },
  {
    name: 'an idle minute between two busy ones: ALIGN_DELTA invents 20 requests, ALIGN_SUM none',
    points: [
      [0, 1, 10],
      [3, 4, 30],
    ],
    read: [1, 2],
    periodMinutes: 1,
    delta: [[2, 20]],
    sum: [],
  },
  {
    name: 'idle minutes over a longer read: each gap interpolated from its neighbours, fractional',
    points: [
      [0, 1, 6],
      [3, 4, 13],
    ],
    read: [0, 4],
    periodMinutes: 1,
    delta: [
      [1, 6],
      [2, 9.5],
      [3, 9.5],
      [4, 13],
    ],
    sum: [
      [1, 6],
      [4, 13],
    ],
  },
  {
    name: 'after the last point nothing is extrapolated, by either aligner',
    points: [[0, 1, 10]],
    read: [2, 3],
    periodMinutes: 1,
    delta: [],
    sum: [],
  },
  {
    name: 'a two-minute window holding one busy and one idle minute: both give the written count',
    points: [
      [0, 1, 7],
      [1, 2, 5],
      [4, 5, 9],
    ],
    read: [0, 2],
    periodMinutes: 2,
    delta: [[2, 12]],
    sum: [[2, 12]],
  },
];

async function write(service: string, points: readonly Minute[]): Promise<void> {
  for (const [from, to, n] of points) {
    await client.createTimeSeries({
      name: `projects/${PROJECT}`,
      timeSeries: [
        {
          metric: {
            type: 'run.googleapis.com/request_count',
            labels: { response_code: '200', response_code_class: '2xx' },
          },
          resource: {
            type: 'cloud_run_revision',
            labels: {
              project_id: PROJECT,
              service_name: service,
              revision_name: `${service}-00001`,
              configuration_name: service,
              location: 'europe-west1',
            },
          },
          metricKind: 'DELTA',
          valueType: 'INT64',
          points: [
            {
              interval: {
                startTime: { seconds: B + from * MINUTE },
                endTime: { seconds: B + to * MINUTE },
              },
              value: { int64Value: n },
            },
          ],
        },
      ],
    });
  }
}

async function aligned(
  service: string,
  c: Case,
  aligner: 'ALIGN_DELTA' | 'ALIGN_SUM',
): Promise<(readonly [number, number])[]> {
  const [series] = await client.listTimeSeries({
    name: `projects/${PROJECT}`,
    filter: `metric.type = "run.googleapis.com/request_count" AND resource.labels.service_name = "${service}"`,
    interval: {
      startTime: { seconds: B + c.read[0] * MINUTE },
      endTime: { seconds: B + c.read[1] * MINUTE },
    },
    aggregation: {
      alignmentPeriod: { seconds: c.periodMinutes * MINUTE },
      perSeriesAligner: aligner,
      crossSeriesReducer: 'REDUCE_SUM',
    },
  });
  const points = series[0]?.points ?? [];
  return points
    .map((p) => {
      const end = (Number(p.interval?.endTime?.seconds ?? 0) - B) / MINUTE;
      const v = p.value;
      // The client names the set member of the value oneof in `value`.
      const which = (v as { value?: string } | null | undefined)?.value;
      const value = which === 'doubleValue' ? (v?.doubleValue ?? 0) : Number(v?.int64Value ?? 0);
      return [end, value] as const;
    })
    .reverse();
}

describe.each(CASES.map((c, i) => ({ ...c, service: `aligners-${i}` })))('$name', (c) => {
  beforeAll(() => write(c.service, c.points));

  it('ALIGN_DELTA follows Google: written counts, gaps between points interpolated', async () => {
    const got = await aligned(c.service, c, 'ALIGN_DELTA');
    expect(got.map(([end]) => end)).toEqual(c.delta.map(([end]) => end));
    got.forEach(([, value], i) => {
      expect(value).toBeCloseTo(c.delta[i]?.[1] ?? Number.NaN, 9);
    });
  });

  it('ALIGN_SUM follows Google: written counts only', async () => {
    expect(await aligned(c.service, c, 'ALIGN_SUM')).toEqual(c.sum);
  });

  it('the production adapter counts exactly what was written in its window, or says noData', async () => {
    const reading = await metrics.read(
      { preset: 'cloudRun', service: c.service },
      { start: (B + c.read[0] * MINUTE) * 1000, end: (B + c.read[1] * MINUTE) * 1000 },
    );
    const written = c.points
      .filter(([, to]) => to > c.read[0] && to <= c.read[1])
      .reduce((total, [, , n]) => total + n, 0);
    if (written === 0) expect(reading.kind).toBe('noData');
    else expect(reading).toMatchObject({ kind: 'data', requests: written, errors: 0 });
  });
});

describe('ingestion delay', () => {
  it('a written point is invisible until its delay has passed, then unchanged', async () => {
    const written = Math.floor(Date.now() / 60_000) * 60_000;
    let clock = written;
    const delays = [150_000];
    const store = new SeriesStore({ now: () => clock, ingestionDelay: () => delays.shift() ?? 0 });
    const delayed = await startMonitoringServer({ store });
    const reader = new CloudMonitoringMetrics({ projectId: PROJECT, localEndpoint: delayed.address });
    const writer = new MetricServiceClient({
      apiEndpoint: delayed.endpoint.host,
      port: delayed.endpoint.port,
      sslCreds: credentials.createInsecure(),
      universeDomain: 'googleapis.com',
    });
    try {
      const end = written / 1000;
      await writer.createTimeSeries({
        name: `projects/${PROJECT}`,
        timeSeries: [
          {
            metric: { type: 'run.googleapis.com/request_count', labels: { response_code_class: '2xx' } },
            resource: { type: 'cloud_run_revision', labels: { service_name: 'late', location: 'x' } },
            metricKind: 'DELTA',
            valueType: 'INT64',
            points: [
              {
                interval: { startTime: { seconds: end - 60 }, endTime: { seconds: end } },
                value: { int64Value: 42 },
              },
            ],
          },
        ],
      });
      const source = { preset: 'cloudRun', service: 'late' } as const;
      const window = { start: written - 60_000, end: written };
      clock = written + 149_999;
      expect((await reader.read(source, window)).kind).toBe('noData');
      clock = written + 150_000;
      expect(await reader.read(source, window)).toMatchObject({ kind: 'data', requests: 42 });
      clock = written + 3_600_000;
      expect(await reader.read(source, window)).toMatchObject({ kind: 'data', requests: 42 });
    } finally {
      await writer.close();
      await reader.close();
      await delayed.close();
    }
  });
});

describe('ingestion in batches', () => {
  it('one revision’s minute arrives whole (every response code together); each revision draws its own delay', () => {
    let clock = 1_800_000_000_000;
    const delays = [40_000, 170_000];
    const store = new SeriesStore({ now: () => clock, ingestionDelay: () => delays.shift() ?? 0 });
    const end = BigInt(clock) * 1_000_000n;
    const point = (service: string, code: string) => ({
      header: {
        metric: { type: 'run.googleapis.com/request_count', labels: { response_code_class: code } },
        resource: { type: 'cloud_run_revision', labels: { service_name: service } },
        metricKind: 'DELTA' as const,
        valueType: 'INT64' as const,
      },
      point: { start: end - 60_000_000_000n, end, value: { type: 'INT64' as const, value: 5 } },
    });
    store.write('p', [
      point('canary', '2xx'),
      point('canary', '5xx'),
      point('stable', '2xx'),
      point('stable', '5xx'),
    ]);
    const visible = () =>
      store
        .series('p', 'run.googleapis.com/request_count')
        .map((s) => `${s.resource.labels['service_name']}/${s.metric.labels['response_code_class']}`)
        .sort();
    clock += 39_999;
    expect(visible()).toEqual([]);
    clock += 1;
    expect(visible()).toEqual(['canary/2xx', 'canary/5xx']);
    clock += 130_000;
    expect(visible()).toEqual(['canary/2xx', 'canary/5xx', 'stable/2xx', 'stable/5xx']);
  });
});
