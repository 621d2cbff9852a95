/** The local Monitoring server's filter subset: what it parses, how it matches, and what it refuses by name. */
import { describe, expect, it } from 'vitest';
import { MonitoringApiError } from '../../../local/monitoring/api-error.ts';
import { matchesFilter, parseFilter } from '../../../local/monitoring/filter.ts';
import type { SeriesHeader } from '../../../local/monitoring/model.ts';

function series(metricLabels: Record<string, string>, resourceLabels: Record<string, string>): SeriesHeader {
  return {
    metric: { type: 'run.googleapis.com/request_count', labels: metricLabels },
    resource: { type: 'cloud_run_revision', labels: resourceLabels },
    metricKind: 'DELTA',
    valueType: 'INT64',
  };
}

function refusal(filter: string): MonitoringApiError {
  try {
    parseFilter(filter);
  } catch (error) {
    if (error instanceof MonitoringApiError) return error;
    throw error;
  }
  throw new Error(`expected ${filter} to be refused`);
}

describe('parseFilter', () => {
  it('reads metric.type, resource.type and label conditions joined by AND', () => {
    const f = parseFilter(
      'metric.type = "run.googleapis.com/request_count" AND resource.type="cloud_run_revision" AND resource.labels.service_name = "canary" AND metric.label.response_code_class != \'5xx\'',
    );
    expect(f).toEqual({
      metricType: 'run.googleapis.com/request_count',
      conditions: [
        { selector: { kind: 'resourceType' }, op: '=', value: 'cloud_run_revision' },
        { selector: { kind: 'resourceLabel', key: 'service_name' }, op: '=', value: 'canary' },
        { selector: { kind: 'metricLabel', key: 'response_code_class' }, op: '!=', value: '5xx' },
      ],
    });
  });

  it('keeps unquoted numbers as their text and unescapes quoted strings', () => {
    const f = parseFilter(
      'metric.type = "m" AND metric.labels.response_code_class = 500 AND resource.label.x = "a\\"b"',
    );
    expect(f.conditions.map((c) => c.value)).toEqual(['500', 'a"b']);
  });

  it('requires exactly one metric.type', () => {
    expect(refusal('resource.type = "cloud_run_revision"').message).toMatch(/exactly one metric type/);
    expect(refusal('metric.type = "a" AND metric.type = "b"').message).toMatch(/more than one metric.type/);
    expect(refusal('').message).toMatch(/required/);
  });

  it.each([
    ['metric.type = "a" OR metric.type = "b"', "'OR'"],
    ['metric.type = "a" AND NOT resource.type = "b"', "'NOT'"],
    ['(metric.type = "a")', 'Parentheses'],
    ['metric.type = starts_with("run.googleapis.com/")', 'starts_with()'],
    [
      'metric.type = "a" AND monitoring.regex.full_match(resource.labels.x, "c.*")',
      'monitoring.regex.full_match()',
    ],
    ['metric.type = "a" AND resource.labels.service_name : "can"', "operator ':'"],
    ['metric.type = "a" AND metric.labels.response_code > 499', "operator '>'"],
    ['metric.type = "a" AND metric.labels.response_code_class = 5xx', "value '5xx'"],
    ['metric.type = "a" AND project = "p"', "selector 'project'"],
    ['metric.type != "a"', 'metric.type !='],
    ['metric.type = "a" resource.type = "b"', 'join conditions with AND'],
  ])('refuses %s with INVALID_ARGUMENT naming %s', (filter, part) => {
    const error = refusal(filter);
    expect(error.code).toBe(3);
    expect(error.message).toContain(part);
  });

  it('reports an unclosed string with its position', () => {
    expect(refusal('metric.type = "a').message).toMatch(/position 14 is not closed/);
  });
});

describe('matchesFilter', () => {
  const f = parseFilter(
    'metric.type = "run.googleapis.com/request_count" AND resource.labels.service_name = "canary" AND metric.labels.response_code_class = "5xx"',
  );

  it('matches equal labels and the metric type', () => {
    expect(matchesFilter(f, series({ response_code_class: '5xx' }, { service_name: 'canary' }))).toBe(true);
    expect(matchesFilter(f, series({ response_code_class: '2xx' }, { service_name: 'canary' }))).toBe(false);
    expect(
      matchesFilter(f, {
        ...series({ response_code_class: '5xx' }, { service_name: 'canary' }),
        metric: { type: 'other', labels: { response_code_class: '5xx' } },
      }),
    ).toBe(false);
  });

  it('treats a missing label as absent: = does not match it, != does', () => {
    expect(matchesFilter(f, series({}, { service_name: 'canary' }))).toBe(false);
    const not = parseFilter(
      'metric.type = "run.googleapis.com/request_count" AND metric.labels.route != "x"',
    );
    expect(matchesFilter(not, series({}, {}))).toBe(true);
    expect(matchesFilter(not, series({ route: 'x' }, {}))).toBe(false);
  });

  it('compares an unquoted number with the label text, as INT64 labels of load balancer metrics are stored', () => {
    const lb = parseFilter(
      'metric.type = "run.googleapis.com/request_count" AND metric.labels.response_code_class = 500',
    );
    expect(matchesFilter(lb, series({ response_code_class: '500' }, {}))).toBe(true);
    expect(matchesFilter(lb, series({ response_code_class: '200' }, {}))).toBe(false);
  });
});
