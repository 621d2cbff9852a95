/**
 * Whether Cloud Monitoring has traffic for both backends now: the last ten whole minutes read
 * through the MetricsReader the controller judges with, from the metric sources it would use, and
 * whether that traffic gives the judge `minRequests` canary requests per window at the first
 * weight step.
 */
import type { BackendReading } from '../../core/analysis/verdict.ts';
import type { ChosenSources } from '../../core/metric-fit.ts';
import type { Plan } from '../../core/plan.ts';
import type { MetricSource } from '../../core/request.ts';
import type { MetricsReader } from '../../ports/metrics-reader.ts';
import type { BackendTraffic, MetricsSection, PlanProblem } from './report.ts';

export const LOOKBACK_MINUTES = 10;
const MINUTE_MS = 60_000;

export async function metricsNow(
  reader: MetricsReader,
  sources: ChosenSources,
  plan: Plan,
  now: number,
): Promise<{ readonly section: MetricsSection; readonly problems: PlanProblem[] }> {
  const end = Math.floor(now / MINUTE_MS) * MINUTE_MS;
  const window = { start: end - LOOKBACK_MINUTES * MINUTE_MS, end };
  const read = async (role: 'stable' | 'canary', source: MetricSource): Promise<BackendTraffic> =>
    traffic(role, source, await reader.read(source, window, { latency: false }));
  const backends = await Promise.all([
    read('stable', sources.stable.source),
    read('canary', sources.canary.source),
  ]);
  const needs = trafficNeeded(plan);
  const total = backends.reduce((sum, b) => sum + b.requestsPerMinute, 0);
  const enough = backends.every((b) => b.hasData) && total >= needs.requestsPerMinute;
  const section: MetricsSection = {
    checked: true,
    window: { start: new Date(window.start).toISOString(), end: new Date(window.end).toISOString() },
    backends,
    needs,
    enough,
  };
  return { section, problems: metricProblems(backends, needs, total) };
}

function traffic(role: 'stable' | 'canary', source: MetricSource, reading: BackendReading): BackendTraffic {
  if (reading.kind === 'noData') {
    return { role, source, hasData: false, requests: 0, requestsPerMinute: 0, reason: reading.reason };
  }
  const perMinute = Math.round((reading.requests / LOOKBACK_MINUTES) * 10) / 10;
  return { role, source, hasData: true, requests: reading.requests, requestsPerMinute: perMinute };
}

/** Requests per minute both backends must serve so the first weight step's canary share fills a window. */
export function trafficNeeded(plan: Plan): MetricsSection['needs'] {
  const first = plan.steps.find((s) => s.kind === 'weight');
  const percent = first?.kind === 'weight' ? first.weights.canary : 100;
  const windowMinutes = plan.analysis.intervalMs / MINUTE_MS;
  const { minRequests } = plan.analysis;
  const perMinute = minRequests / (windowMinutes * (Math.max(percent, 1) / 100));
  return {
    minRequests,
    windowMinutes,
    firstCanaryPercent: percent,
    requestsPerMinute: Math.ceil(perMinute * 10) / 10,
  };
}

function metricProblems(
  backends: readonly BackendTraffic[],
  needs: MetricsSection['needs'],
  total: number,
): PlanProblem[] {
  const missing: PlanProblem[] = backends.flatMap((b) =>
    b.hasData
      ? []
      : [
          {
            section: 'metrics',
            code: 'NO_METRICS',
            message: `no ${b.role} metrics in Cloud Monitoring for the last ${LOOKBACK_MINUTES} minutes (${b.reason ?? 'no time series'})`,
            hint: `send traffic to the ${b.role} backend, or set analysis.metrics.${b.role} to the source that sees it (docs/rollout-request.md#metric-sources)`,
          },
        ],
  );
  if (missing.length > 0 || total >= needs.requestsPerMinute) return missing;
  return [
    {
      section: 'metrics',
      code: 'LOW_TRAFFIC',
      message: `both backends together serve ${total} requests per minute; the first step (${needs.firstCanaryPercent}% canary) needs ${needs.requestsPerMinute} for ${needs.minRequests} canary requests per ${needs.windowMinutes}-minute window`,
      hint: 'raise the traffic, the first weight, analysis.interval, or lower analysis.minRequests (docs/analysis.md)',
    },
  ];
}
