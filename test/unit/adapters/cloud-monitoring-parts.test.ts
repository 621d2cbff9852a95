/** The pieces of the Cloud Monitoring metrics adapter: preset filters, histogram conversion, error mapping. */
import { describe, expect, it } from 'vitest';
import { metricsErrorFrom } from '../../../functions/adapters/monitoring-errors.ts';
import { isServerErrorClass, metricQueries, quote } from '../../../functions/adapters/monitoring-filters.ts';
import { addHistograms, histogramOf } from '../../../functions/adapters/monitoring-histogram.ts';
import { InvalidInputError, RefusedError, TransientError } from '../../../functions/errors.ts';

describe('metricQueries', () => {
  it('cloudRun: request_count and request_latencies of one service on cloud_run_revision, 5xx by response class', () => {
    const q = metricQueries(
      { preset: 'cloudRun', service: 'checkout-canary', location: 'europe-west1' },
      'p',
    );
    expect(q.project).toBe('p');
    expect(q.requests).toBe(
      'metric.type = "run.googleapis.com/request_count" AND resource.type = "cloud_run_revision" AND resource.labels.service_name = "checkout-canary" AND resource.labels.location = "europe-west1"',
    );
    expect(q.latency).toBe(
      'metric.type = "run.googleapis.com/request_latencies" AND resource.type = "cloud_run_revision" AND resource.labels.service_name = "checkout-canary" AND resource.labels.location = "europe-west1"',
    );
    expect(q.errors).toEqual({ kind: 'responseClass' });
  });

  it('cloudRun and internalLb read another project when the source names one', () => {
    expect(metricQueries({ preset: 'cloudRun', service: 's', project: 'other' }, 'p').project).toBe('other');
    const lb = metricQueries({ preset: 'internalLb', backend: 'canary-backend', project: 'net' }, 'p');
    expect(lb.project).toBe('net');
  });

  it('internalLb: the backend service is backend_target_name of type BACKEND_SERVICE, never backend_name (the backend group)', () => {
    const lb = metricQueries({ preset: 'internalLb', backend: 'canary-backend' }, 'p');
    const resource =
      'resource.type = "internal_http_lb_rule" AND resource.labels.backend_target_name = "canary-backend" AND resource.labels.backend_target_type = "BACKEND_SERVICE"';
    expect(lb.requests).toBe(
      `metric.type = "loadbalancing.googleapis.com/https/internal/request_count" AND ${resource}`,
    );
    expect(lb.latency).toBe(
      `metric.type = "loadbalancing.googleapis.com/https/internal/backend_latencies" AND ${resource}`,
    );
    expect(lb.requests).not.toContain('backend_name');
    expect(lb.errors).toEqual({ kind: 'responseClass' });
    expect(lb.description).toBe('internal load balancer backend service canary-backend in project p');
  });

  it('filter: the source filters as given, in the controller project', () => {
    const q = metricQueries(
      { preset: 'filter', requests: 'metric.type = "a"', errors: 'metric.type = "b"' },
      'p',
    );
    expect(q).toMatchObject({
      project: 'p',
      requests: 'metric.type = "a"',
      errors: { kind: 'filter', filter: 'metric.type = "b"' },
      latency: null,
    });
  });

  it('quotes filter strings', () => {
    expect(quote('a"b\\c')).toBe('"a\\"b\\\\c"');
  });

  it.each([
    ['5xx', true],
    ['500', true],
    ['503', true],
    ['4xx', false],
    ['400', false],
    [undefined, false],
  ])('response class %s is a server error: %s', (value, expected) => {
    expect(isServerErrorClass(value)).toBe(expected);
  });
});

describe('histogramOf', () => {
  it('exponential buckets: bounds scale·g^i, counts padded where trailing zeros were omitted', () => {
    const h = histogramOf({
      count: '6',
      bucketOptions: { exponentialBuckets: { numFiniteBuckets: 3, growthFactor: 2, scale: 1 } },
      bucketCounts: ['1', '2', '3'],
    });
    expect(h).toEqual({ bounds: [1, 2, 4, 8], counts: [1, 2, 3, 0, 0] });
  });

  it('linear buckets: bounds offset + width·i', () => {
    const h = histogramOf({
      count: 2,
      bucketOptions: { linearBuckets: { numFiniteBuckets: 2, width: 50, offset: 10 } },
      bucketCounts: [0, 0, 0, 2],
    });
    expect(h).toEqual({ bounds: [10, 60, 110], counts: [0, 0, 0, 2] });
  });

  it('explicit buckets: the bounds as given', () => {
    const h = histogramOf({
      count: '1',
      bucketOptions: { explicitBuckets: { bounds: [5, 50] } },
      bucketCounts: ['0', '1'],
    });
    expect(h).toEqual({ bounds: [5, 50], counts: [0, 1, 0] });
  });

  it('an empty distribution without counts is an empty histogram; a non-empty one without counts is unknown', () => {
    const options = { explicitBuckets: { bounds: [5] } };
    expect(histogramOf({ count: '0', bucketOptions: options })).toEqual({ bounds: [5], counts: [0, 0] });
    expect(histogramOf({ count: '3', bucketOptions: options })).toBeNull();
  });

  it('refuses distributions without bucket options or with too many counts', () => {
    expect(() => histogramOf({ count: '1', bucketCounts: ['1'] })).toThrow(InvalidInputError);
    expect(() =>
      histogramOf({
        count: '3',
        bucketOptions: { explicitBuckets: { bounds: [5] } },
        bucketCounts: ['1', '1', '1'],
      }),
    ).toThrow(/3 bucket counts for 2 buckets/);
  });

  it('adds histograms of the same layout and refuses different ones', () => {
    expect(
      addHistograms({ bounds: [1, 2], counts: [1, 0, 2] }, { bounds: [1, 2], counts: [0, 1, 1] }),
    ).toEqual({
      bounds: [1, 2],
      counts: [1, 1, 3],
    });
    expect(() =>
      addHistograms({ bounds: [1, 2], counts: [0, 0, 0] }, { bounds: [1, 3], counts: [0, 0, 0] }),
    ).toThrow(/different bucket layouts/);
  });
});

describe('metricsErrorFrom', () => {
  const grpcError = (code: number, details: string) =>
    Object.assign(new Error(`${code} X: ${details}`), { code, details });

  it.each([
    [14, TransientError],
    [4, TransientError],
    [8, TransientError],
    [13, TransientError],
    [3, InvalidInputError],
    [7, RefusedError],
    [5, RefusedError],
    [16, RefusedError],
  ])('gRPC %i → %o', (code, kind) => {
    const error = metricsErrorFrom(grpcError(code, 'the API says why'), 'reading requests of s');
    expect(error).toBeInstanceOf(kind);
    expect(error.message).toContain('reading requests of s failed');
    expect(error.message).toContain('the API says why');
    expect(error.retryable).toBe(kind === TransientError);
  });

  it('hints what to do for a refused query and for missing permissions', () => {
    expect(metricsErrorFrom(grpcError(3, 'bad filter'), 'x').hint).toMatch(/metric source/);
    expect(metricsErrorFrom(grpcError(7, 'denied'), 'x').hint).toMatch(/monitoring.timeSeries.list/);
  });

  it('a failure without a gRPC code is transient unless it is about credentials', () => {
    expect(metricsErrorFrom(new Error('socket hang up'), 'x')).toBeInstanceOf(TransientError);
    expect(metricsErrorFrom(new Error('Could not load the default credentials'), 'x')).toBeInstanceOf(
      RefusedError,
    );
  });
});
