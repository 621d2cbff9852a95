/** Alert policies for the local evaluator: what is accepted, what is refused by name, and how a ratio condition observes series. */
import { describe, expect, it } from 'vitest';
import { observe } from '../../../local/alerting/condition.ts';
import {
  AlertPolicyError,
  parseAlertPolicy,
  parseNotificationChannel,
} from '../../../local/alerting/policy.ts';
import type { TimeSeriesQuery } from '../../../local/monitoring/list-request.ts';
import type { TimeSeries } from '../../../local/monitoring/model.ts';
import { runQuery } from '../../../local/monitoring/query.ts';
import { SeriesStore } from '../../../local/monitoring/series-store.ts';

const SELECT = 'metric.type = "run.googleapis.com/request_count" AND resource.type = "cloud_run_revision"';
const AGG = {
  alignmentPeriod: '60s',
  perSeriesAligner: 'ALIGN_DELTA',
  crossSeriesReducer: 'REDUCE_SUM',
  groupByFields: ['resource.label.service_name'],
};

function policy(threshold: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    displayName: 'p',
    conditions: [
      {
        displayName: 'c',
        conditionThreshold: {
          filter: `${SELECT} AND metric.labels.response_code_class = "5xx"`,
          denominatorFilter: SELECT,
          aggregations: [AGG],
          denominatorAggregations: [AGG],
          comparison: 'COMPARISON_GT',
          thresholdValue: 0.1,
          duration: '0s',
          ...threshold,
        },
      },
    ],
    ...extra,
  };
}

describe('parseAlertPolicy', () => {
  it('names the policy and its conditions, defaults to notifying on OPENED and CLOSED', () => {
    const p = parseAlertPolicy(policy(), 'proj', 2);
    expect(p.name).toBe('projects/proj/alertPolicies/3');
    expect(p.conditions[0]?.name).toBe('projects/proj/alertPolicies/3/conditions/1');
    expect(p.notifyOnClose).toBe(true);
    expect(p.conditions[0]?.missingData).toBe('noOp');
    expect(
      parseAlertPolicy(policy({}, { alertStrategy: { notificationPrompts: ['OPENED'] } }), 'proj', 0)
        .notifyOnClose,
    ).toBe(false);
  });

  it.each([
    [policy({}, { combiner: 'AND' }), /combiner OR/],
    [policy({ forecastOptions: { forecastHorizon: '3600s' } }), /forecastOptions/],
    [policy({ aggregations: [AGG, AGG] }), /exactly one aggregation/],
    [
      policy({ aggregations: [{ ...AGG, perSeriesAligner: 'ALIGN_MEAN' }] }),
      /perSeriesAligner ALIGN_MEAN is not supported/,
    ],
    [policy({ aggregations: [{ ...AGG, alignmentPeriod: '30s' }] }), /at least 60s/],
    [policy({ aggregations: [{ ...AGG, groupByFields: [] }] }), /group by the same fields/],
    [policy({ denominatorAggregations: undefined }), /together/],
    [policy({ filter: 'metric.type = "a" OR metric.type = "b"' }), /'OR'/],
    [policy({ evaluationMissingData: 'EVALUATION_MISSING_DATA_ACTIVE' }), /evaluationMissingData/],
    [policy({ trigger: { percent: 50 } }), /percent/],
  ])('refuses %#: %s', (json, message) => {
    expect(() => parseAlertPolicy(json, 'proj', 0)).toThrow(AlertPolicyError);
    expect(() => parseAlertPolicy(json, 'proj', 0)).toThrow(message);
  });

  it('takes pubsub channels only', () => {
    expect(
      parseNotificationChannel({
        name: 'projects/p/notificationChannels/1',
        type: 'pubsub',
        labels: { topic: 'projects/p/topics/t' },
      }),
    ).toEqual({ name: 'projects/p/notificationChannels/1', topic: 'projects/p/topics/t', enabled: true });
    expect(() =>
      parseNotificationChannel({
        name: 'projects/p/notificationChannels/1',
        type: 'email',
        labels: { email_address: 'a@b' },
      }),
    ).toThrow(/only pubsub channels/);
  });
});

describe('observe (ratio condition)', () => {
  const end = 1_800_000_000_000_000_000n;
  const store = new SeriesStore({ now: () => 1_800_000_000_000 });
  const source = {
    query: (project: string, q: TimeSeriesQuery): readonly TimeSeries[] => runQuery(store, project, q),
  };
  const write = (service: string, responseClass: string, value: number) =>
    store.write('proj', [
      {
        header: {
          metric: {
            type: 'run.googleapis.com/request_count',
            labels: { response_code_class: responseClass },
          },
          resource: { type: 'cloud_run_revision', labels: { service_name: service } },
          metricKind: 'DELTA',
          valueType: 'INT64',
        },
        point: { start: end - 2_000_000_000n, end: end - 1_000_000_000n, value: { type: 'INT64', value } },
      },
    ]);
  write('canary', '2xx', 80);
  write('canary', '5xx', 20);
  write('healthy', '2xx', 100);

  it('divides numerator by denominator per grouped series; no numerator series is a ratio of 0', () => {
    const condition = parseAlertPolicy(policy(), 'proj', 0).conditions[0];
    if (!condition) throw new Error('no condition');
    const observed = observe(condition, source, 'proj', end, 1);
    expect(observed.map((o) => [o.resource.labels['service_name'], o.value, o.violating])).toEqual([
      ['canary', 0.2, true],
      ['healthy', 0, false],
    ]);
  });

  it('evaluates the newest ingested period, however late the points arrived; a 60 s period at timeScale 60 lasts 1 s', () => {
    const condition = parseAlertPolicy(policy(), 'proj', 0).conditions[0];
    if (!condition) throw new Error('no condition');
    // Points ending 1 s before `end`: evaluated 5 s later, the period ending with them is judged.
    expect(observe(condition, source, 'proj', end + 5_000_000_000n, 60)).toHaveLength(2);
    // Before they ended nothing of them counts.
    expect(observe(condition, source, 'proj', end - 1_500_000_000n, 60)).toHaveLength(0);
    // Nothing ingested within ten periods: nothing to evaluate.
    expect(observe(condition, source, 'proj', end + 20_000_000_000n, 60)).toHaveLength(0);
  });
});
