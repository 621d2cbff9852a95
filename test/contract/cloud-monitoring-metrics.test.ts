/**
 * The production metrics adapter (official MetricServiceClient) against the local Monitoring
 * server, with traffic injected as Cloud Run writes it (through the request recorder, on a
 * controlled clock) or with CreateTimeSeries: exact counts and 5xx, percentiles within bucket
 * resolution, window edges, noData, pagination, the three presets, and typed errors.
 */
import { MetricServiceClient } from '@google-cloud/monitoring';
import { credentials } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudMonitoringMetrics } from '../../functions/adapters/cloud-monitoring-metrics.ts';
import { percentile } from '../../functions/core/analysis/histogram.ts';
import type { BackendReading, LatencyHistogram } from '../../functions/core/analysis/verdict.ts';
import type { MetricSource } from '../../functions/core/request.ts';
import { InvalidInputError, TransientError } from '../../functions/errors.ts';
import { CloudRunRecorder } from '../../local/monitoring/cloud-run-recorder.ts';
import { type MonitoringServer, startMonitoringServer } from '../../local/monitoring/server.ts';
import { freePort } from '../../local/net.ts';

const PROJECT = 'metrics-contract';
const MINUTE = 60_000;
/** A whole minute two hours ago: inside the server's retention, clear of real time. */
const B = Math.floor(Date.now() / MINUTE) * MINUTE - 120 * MINUTE;

let server: MonitoringServer;
let recorder: CloudRunRecorder;
let metrics: CloudMonitoringMetrics;
let writer: MetricServiceClient;
let clock = B;

beforeAll(async () => {
  server = await startMonitoringServer();
  // Flushed by hand; the timer never fires during the tests.
  recorder = new CloudRunRecorder({
    endpoint: server.endpoint,
    project: PROJECT,
    now: () => clock,
    flushMs: 3_600_000,
  });
  metrics = new CloudMonitoringMetrics({ projectId: PROJECT, localEndpoint: server.address });
  writer = new MetricServiceClient({
    apiEndpoint: server.endpoint.host,
    port: server.endpoint.port,
    sslCreds: credentials.createInsecure(),
    universeDomain: 'googleapis.com',
  });
});

afterAll(async () => {
  await recorder.close();
  await metrics.close();
  await writer.close();
  await server.close();
});

/** Records `n` requests of a service at the clock time `at` (ms after B) and flushes them. */
async function traffic(
  at: number,
  service: string,
  batches: [code: number, n: number, latencyMs?: (i: number) => number][],
) {
  clock = B + at;
  for (const [code, n, latency] of batches) {
    for (let i = 0; i < n; i += 1)
      recorder.record({ service, responseCode: code, latencyMs: latency?.(i) ?? 20 });
  }
  await recorder.flush();
}

function data(reading: BackendReading): Extract<BackendReading, { kind: 'data' }> {
  if (reading.kind !== 'data') throw new Error(`expected data, got noData: ${reading.reason}`);
  return reading;
}

const run = (service: string): MetricSource => ({ preset: 'cloudRun', service });
const window = (fromSeconds: number, toSeconds: number) => ({
  start: B + fromSeconds * 1000,
  end: B + toSeconds * 1000,
});

/** The bucket [lower, upper) of a histogram that holds `value`. */
function bucketAround(h: LatencyHistogram, value: number): [number, number] {
  const i = h.bounds.findIndex((b) => value < b);
  return [h.bounds[i - 1] ?? Number.NEGATIVE_INFINITY, h.bounds[i] ?? Number.POSITIVE_INFINITY];
}

describe('cloudRun preset on traffic written by the request recorder', () => {
  beforeAll(async () => {
    await traffic(10_000, 'checkout-canary', [
      [200, 600],
      [404, 30],
      [503, 25],
    ]);
    await traffic(10_000, 'checkout-stable', [
      [200, 4995],
      [502, 5],
    ]);
    await traffic(40_000, 'checkout-canary', [
      [200, 330],
      [500, 15],
    ]);
  });

  it('counts every request and exactly the 5xx of each service (4xx are not errors)', async () => {
    const canary = data(await metrics.read(run('checkout-canary'), window(0, 60)));
    const stable = data(await metrics.read(run('checkout-stable'), window(0, 60)));
    expect([canary.requests, canary.errors]).toEqual([1000, 40]);
    expect([stable.requests, stable.errors]).toEqual([5000, 5]);
    expect(canary.errors / canary.requests).toBe(0.04);
  });

  it('selects by location when the source names one', async () => {
    const here = await metrics.read(
      { preset: 'cloudRun', service: 'checkout-canary', location: 'europe-west1' },
      window(0, 60),
    );
    const elsewhere = await metrics.read(
      { preset: 'cloudRun', service: 'checkout-canary', location: 'us-central1' },
      window(0, 60),
    );
    expect(data(here).requests).toBe(1000);
    expect(elsewhere.kind).toBe('noData');
  });

  it('a service without series, or a window before its traffic, is noData — never zero errors', async () => {
    const unknown = await metrics.read(run('no-such-service'), window(0, 60));
    expect(unknown).toEqual({ kind: 'noData', reason: expect.stringContaining('no-such-service') });
    expect((await metrics.read(run('checkout-canary'), window(-600, -540))).kind).toBe('noData');
  });

  it('reads every page: with one series per page the answer is the same, over more calls', async () => {
    const paged = new CloudMonitoringMetrics({
      projectId: PROJECT,
      localEndpoint: server.address,
      pageSize: 1,
    });
    try {
      const before = server.calls.list;
      const reading = data(await paged.read(run('checkout-canary'), window(0, 60)));
      // 2xx, 4xx and 5xx groups of request_count on three pages, the summed latency on one.
      expect(server.calls.list - before).toBe(4);
      expect([reading.requests, reading.errors]).toEqual([1000, 40]);
    } finally {
      await paged.close();
    }
  });
});

describe('window edges: with Cloud Run minute points, a window [start, end) on minute boundaries counts the requests that ended in it', () => {
  beforeAll(async () => {
    const sampled = new CloudRunRecorder({
      endpoint: server.endpoint,
      project: PROJECT,
      now: () => clock,
      flushMs: 3_600_000,
      samplingPeriodMs: MINUTE,
    });
    const at = (ms: number, code: number, n: number) => {
      for (let i = 0; i < n; i += 1)
        sampled.record({ service: 'edge', responseCode: code, latencyMs: 20, at: B + ms });
    };
    at(299_999, 200, 3);
    at(300_000, 500, 5);
    at(359_999, 200, 7);
    clock = B + 359_999;
    await sampled.flush();
    clock = B + 360_000;
    await sampled.flush();
    await sampled.close();
  });

  it('the recorder wrote one point per minute, on the minute boundaries', async () => {
    const edge = server.store
      .series(PROJECT, 'run.googleapis.com/request_count')
      .filter((s) => s.resource.labels['service_name'] === 'edge');
    const ends = edge.flatMap((s) =>
      s.points.map((p) => [Number(p.start / 1_000_000n) - B, Number(p.end / 1_000_000n) - B]),
    );
    expect(new Set(ends.map((e) => e.join('-')))).toEqual(new Set(['240000-300000', '300000-360000']));
  });

  it('splits consecutive windows without losing or double counting a request', async () => {
    const first = data(await metrics.read(run('edge'), window(240, 300)));
    const second = data(await metrics.read(run('edge'), window(300, 360)));
    const both = data(await metrics.read(run('edge'), window(240, 360)));
    expect([first.requests, first.errors]).toEqual([3, 0]);
    expect([second.requests, second.errors]).toEqual([12, 5]);
    expect([both.requests, both.errors]).toEqual([15, 5]);
  });
});

describe('latency histograms', () => {
  beforeAll(async () => {
    await traffic(610_000, 'latency', [[200, 1000, (i) => i + 1]]);
  });

  it('come back as the canonical histogram of Cloud Run buckets; percentiles fall in the true value’s bucket', async () => {
    const reading = data(await metrics.read(run('latency'), window(600, 660)));
    const h = reading.latency;
    if (h === null) throw new Error('expected a latency histogram');
    expect(h.counts).toHaveLength(h.bounds.length + 1);
    expect(h.counts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(h.bounds[0]).toBe(1);
    expect(h.bounds[1]).toBeCloseTo(1.4, 12);
    for (const [q, truth] of [
      [0.5, 500],
      [0.95, 950],
      [0.99, 990],
    ] as const) {
      const [lower, upper] = bucketAround(h, truth);
      const estimate = percentile(h, q) ?? Number.NaN;
      expect(estimate, `p${q * 100}`).toBeGreaterThanOrEqual(lower);
      expect(estimate, `p${q * 100}`).toBeLessThanOrEqual(upper);
    }
  });
});

describe('refusals', () => {
  it('an unsupported filter is a non-retryable InvalidInputError naming the unsupported part', async () => {
    for (const [requests, part] of [
      ['metric.type = "run.googleapis.com/request_count" OR metric.type = "x"', "'OR'"],
      [
        'metric.type = "run.googleapis.com/request_count" AND monitoring.regex.full_match(resource.labels.service_name, "c.*")',
        'monitoring.regex.full_match()',
      ],
    ] as const) {
      const error = await metrics
        .read(
          { preset: 'filter', requests, errors: 'metric.type = "run.googleapis.com/request_count"' },
          window(0, 60),
        )
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as InvalidInputError).code).toBe('METRICS_QUERY_INVALID');
      expect((error as InvalidInputError).retryable).toBe(false);
      expect((error as Error).message).toContain(part);
    }
  });

  it('a window shorter than the smallest alignment period is refused naming alignmentPeriod', async () => {
    const error = await metrics.read(run('checkout-canary'), window(0, 30)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as Error).message).toMatch(/alignmentPeriod .*at least 60s \(got 30s\)/);
  });

  it('no server is a TransientError', async () => {
    const nowhere = new CloudMonitoringMetrics({
      projectId: PROJECT,
      localEndpoint: `127.0.0.1:${await freePort()}`,
      timeoutMs: 500,
    });
    try {
      const error = await nowhere.read(run('checkout-canary'), window(0, 60)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TransientError);
    } finally {
      await nowhere.close();
    }
  });
});

/** One DELTA point of a series, written with CreateTimeSeries as any agent would. */
function point(
  metric: string,
  metricLabels: Record<string, string>,
  resource: { type: string; labels: Record<string, string> },
  endSeconds: number,
  value: { int64Value: string } | { distributionValue: Record<string, unknown> },
) {
  return {
    metric: { type: metric, labels: metricLabels },
    resource,
    metricKind: 'DELTA' as const,
    valueType: 'int64Value' in value ? ('INT64' as const) : ('DISTRIBUTION' as const),
    points: [
      {
        interval: {
          startTime: { seconds: Math.floor(B / 1000) + endSeconds - 1 },
          endTime: { seconds: Math.floor(B / 1000) + endSeconds },
        },
        value,
      },
    ],
  };
}

describe('internalLb preset', () => {
  const LB_COUNT = 'loadbalancing.googleapis.com/https/internal/request_count';
  const LB_LATENCY = 'loadbalancing.googleapis.com/https/internal/backend_latencies';
  // backend_target_name is the backend service the preset names; backend_name is its backend
  // group (a NEG), which the preset must not select by.
  const rule = (backendService: string, group = `${backendService}-neg`) => ({
    type: 'internal_http_lb_rule',
    labels: {
      backend_name: group,
      backend_target_name: backendService,
      backend_target_type: 'BACKEND_SERVICE',
      forwarding_rule_name: 'fr',
      url_map_name: 'um',
    },
  });

  beforeAll(async () => {
    await writer.createTimeSeries({
      name: `projects/${PROJECT}`,
      timeSeries: [
        point(LB_COUNT, { response_code: '200', response_code_class: '200' }, rule('canary-be'), 905, {
          int64Value: '970',
        }),
        point(LB_COUNT, { response_code: '503', response_code_class: '500' }, rule('canary-be'), 905, {
          int64Value: '20',
        }),
        point(LB_COUNT, { response_code: '500', response_code_class: '500' }, rule('canary-be'), 905, {
          int64Value: '10',
        }),
        point(LB_COUNT, { response_code: '404', response_code_class: '400' }, rule('canary-be'), 905, {
          int64Value: '7',
        }),
        point(LB_COUNT, { response_code: '200', response_code_class: '200' }, rule('stable-be'), 905, {
          int64Value: '100',
        }),
        // Another backend service whose backend group happens to be called canary-be.
        point(
          LB_COUNT,
          { response_code: '500', response_code_class: '500' },
          rule('other-bs', 'canary-be'),
          905,
          { int64Value: '5000' },
        ),
        point(LB_LATENCY, { response_code: '200', response_code_class: '200' }, rule('canary-be'), 905, {
          distributionValue: {
            count: '1007',
            mean: 30,
            bucketOptions: { explicitBuckets: { bounds: [10, 50, 100, 500] } },
            bucketCounts: ['0', '500', '500', '7'],
          },
        }),
      ],
    });
  });

  it('counts requests of the backend service and the INT64 response class 500 as errors; converts explicit buckets', async () => {
    const reading = data(
      await metrics.read({ preset: 'internalLb', backend: 'canary-be' }, window(900, 960)),
    );
    expect([reading.requests, reading.errors]).toEqual([1007, 30]);
    expect(reading.latency).toEqual({ bounds: [10, 50, 100, 500], counts: [0, 500, 500, 7, 0] });
    const stable = data(await metrics.read({ preset: 'internalLb', backend: 'stable-be' }, window(900, 960)));
    expect([stable.requests, stable.errors, stable.latency]).toEqual([100, 0, null]);
  });
});

describe('filter preset', () => {
  const REQUESTS = 'custom.googleapis.com/shop/requests';
  const LATENCY = 'custom.googleapis.com/shop/latency';
  const instance = {
    type: 'generic_task',
    labels: { project_id: PROJECT, location: 'l', namespace: 'shop', job: 'canary', task_id: '1' },
  };

  beforeAll(async () => {
    await writer.createTimeSeries({
      name: `projects/${PROJECT}`,
      timeSeries: [
        point(REQUESTS, { outcome: 'ok' }, instance, 1205, { int64Value: '480' }),
        point(REQUESTS, { outcome: 'error' }, instance, 1205, { int64Value: '20' }),
        point(LATENCY, {}, instance, 1205, {
          distributionValue: {
            count: '500',
            mean: 42,
            bucketOptions: { linearBuckets: { numFiniteBuckets: 10, width: 10, offset: 0 } },
            bucketCounts: ['0', '100', '100', '100', '100', '100'],
          },
        }),
      ],
    });
  });

  it('reads requests, errors and latency with the source’s own filters', async () => {
    const reading = data(
      await metrics.read(
        {
          preset: 'filter',
          requests: `metric.type = "${REQUESTS}" AND resource.labels.job = "canary"`,
          errors: `metric.type = "${REQUESTS}" AND resource.labels.job = "canary" AND metric.labels.outcome = "error"`,
          latency: `metric.type = "${LATENCY}" AND resource.labels.job = "canary"`,
        },
        window(1200, 1260),
      ),
    );
    expect([reading.requests, reading.errors]).toEqual([500, 20]);
    expect(reading.latency?.bounds).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    expect(reading.latency?.counts).toEqual([0, 100, 100, 100, 100, 100, 0, 0, 0, 0, 0, 0]);
  });

  it('an errors filter without series means no errors, while requests exist', async () => {
    const reading = data(
      await metrics.read(
        {
          preset: 'filter',
          requests: `metric.type = "${REQUESTS}"`,
          errors: `metric.type = "${REQUESTS}" AND metric.labels.outcome = "timeout"`,
        },
        window(1200, 1260),
      ),
    );
    expect([reading.requests, reading.errors, reading.latency]).toEqual([500, 0, null]);
  });
});

describe('the ingestion frontier: a window read period by period says which periods have a point', () => {
  const M = MINUTE;
  let sampled: CloudRunRecorder;
  /** Requests of a service served in the minute starting `minute` minutes after B, written now. */
  const served = async (service: string, minute: number, ok: number, failed: number) => {
    for (let i = 0; i < ok + failed; i += 1) {
      sampled.record({
        service,
        responseCode: i < failed ? 500 : 200,
        latencyMs: 20,
        at: B + minute * M + 1000,
      });
    }
    clock = B + (minute + 1) * M;
    await sampled.flush();
  };

  beforeAll(() => {
    sampled = new CloudRunRecorder({
      endpoint: server.endpoint,
      project: PROJECT,
      now: () => clock,
      flushMs: 3_600_000,
      samplingPeriodMs: M,
    });
  });
  afterAll(async () => {
    await sampled.close();
  });

  it('lists the periods with a request point; a late point shows up once written, counted once', async () => {
    await served('frontier-stable', 50, 90, 1);
    await served('frontier-stable', 51, 90, 1);
    await served('frontier-canary', 50, 10, 2);
    const w = { start: B + 50 * M, end: B + 52 * M };
    const stable = data(await metrics.read(run('frontier-stable'), w, { periodMs: M }));
    expect(stable.periods).toEqual([B + 51 * M, B + 52 * M]);
    expect([stable.requests, stable.errors]).toEqual([182, 2]);
    const early = data(await metrics.read(run('frontier-canary'), w, { periodMs: M }));
    expect(early.periods).toEqual([B + 51 * M]);
    expect([early.requests, early.errors]).toEqual([12, 2]);

    // The canary's second point arrives late.
    await served('frontier-canary', 51, 10, 0);
    const late = data(await metrics.read(run('frontier-canary'), w, { periodMs: M }));
    expect(late.periods).toEqual([B + 51 * M, B + 52 * M]);
    expect([late.requests, late.errors]).toEqual([22, 2]);

    // The same totals as the window read as one aligned period, which reports no periods.
    const whole = data(await metrics.read(run('frontier-canary'), w));
    expect([whole.requests, whole.errors, whole.periods]).toEqual([22, 2, undefined]);
  });

  it('with one series per page, each period is listed once and counted once', async () => {
    const paged = new CloudMonitoringMetrics({
      projectId: PROJECT,
      localEndpoint: server.address,
      pageSize: 1,
    });
    try {
      const w = { start: B + 50 * M, end: B + 52 * M };
      const reading = data(await paged.read(run('frontier-canary'), w, { periodMs: M, latency: false }));
      expect(reading.periods).toEqual([B + 51 * M, B + 52 * M]);
      expect([reading.requests, reading.errors]).toEqual([22, 2]);
    } finally {
      await paged.close();
    }
  });
});
