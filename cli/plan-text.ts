/** rolloutctl plan's report as text a person reads: problems first, then every section. */
import { isNotChecked } from '../functions/app/plan/problems.ts';
import type {
  AlertsSection,
  IamSection,
  MetricsSection,
  NotChecked,
  PlanReport,
  RouteFinding,
  RouteWrites,
  StoreSection,
  TimelineSection,
} from '../functions/app/plan/report.ts';
import type { StepWrite } from '../functions/core/routing/step-diff.ts';
import type { PlannedDestination } from '../functions/core/routing/write-plan.ts';
import { describeWeights } from '../functions/core/weights.ts';

export function planText(report: PlanReport): string {
  const lines = [
    ...problemLines(report),
    '',
    `schema:     ${report.schema.valid ? 'valid' : 'invalid'}`,
    ...report.schema.issues.map((i) => `  ${i.field}: ${i.rule}`),
    'allowlist:',
    ...report.allowlist.map((a) => `  ${a.allowed ? 'allowed    ' : 'NOT allowed'} ${a.route}`),
    ...section('routes', report.routes, (routes) => routes.flatMap(routeLines)),
    ...section('route writes', report.writes, (writes) => writes.flatMap(writeLines)),
    ...section('metrics (now)', report.metrics, metricLines),
    ...section('alert policies', report.alerts, alertLines),
    ...section('timeline (earliest)', report.timeline, timelineLines),
    ...section('iam', report.iam, iamLines),
    ...section('firestore', report.store, storeLines),
  ];
  return `${lines.join('\n')}\n`;
}

function problemLines(report: PlanReport): string[] {
  if (report.problems.length === 0) return ['plan: no problems found'];
  return [
    `plan: ${report.problems.length} problem${report.problems.length === 1 ? '' : 's'}`,
    ...report.problems.flatMap((p) => [
      `  ✗ [${p.section}] ${p.code}: ${p.message}`,
      ...(p.fields ?? []).map((f) => `      ${f.field}: ${f.rule}`),
      `      hint: ${p.hint}`,
    ]),
  ];
}

function section<T>(title: string, value: T | NotChecked, lines: (value: T) => string[]): string[] {
  if (isNotChecked(value)) return [`${title}: not checked: ${value.why}`];
  return [`${title}:`, ...lines(value)];
}

function destinations(list: readonly PlannedDestination[]): string {
  if (list.length === 0) return '(none)';
  return list.map((d) => `${short(d.name)}${d.weight === null ? '' : `=${d.weight}`}`).join(', ');
}

function short(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

function routeLines(r: RouteFinding): string[] {
  if (!r.read) return [`  ${r.route}: not read: ${r.reason}`];
  const rule =
    r.rule === null
      ? 'managed rule: not found'
      : `managed rule ${r.rule.index} at ${describeWeights(r.rule.weights)}`;
  return [
    `  ${r.route} (updated ${r.updateTime})`,
    `    stable ${r.stable}, canary ${r.canary}`,
    `    ${rule}; destinations: ${destinations(r.destinations)}`,
  ];
}

function writeLines(w: RouteWrites): string[] {
  return [`  ${w.route}`, ...w.steps.map(stepLine)];
}

function stepLine(s: StepWrite): string {
  const head = `    step ${s.step} (${describeWeights(s.weights)}): `;
  if (s.kind === 'skip') return `${head}no write: ${s.reason}`;
  return `${head}rule ${s.ruleIndex}: ${destinations(s.before)} → ${destinations(s.after)}`;
}

function metricLines(m: MetricsSection): string[] {
  return [
    `  window ${m.window.start} – ${m.window.end}`,
    ...m.backends.map((b) =>
      b.hasData
        ? `  ${b.role.padEnd(6)} ${b.requestsPerMinute} requests/min (${b.requests} requests)`
        : `  ${b.role.padEnd(6)} no data: ${b.reason ?? 'no time series'}`,
    ),
    `  the judge needs ${m.needs.minRequests} canary requests per ${m.needs.windowMinutes}-minute window: at ${m.needs.firstCanaryPercent}% canary, ${m.needs.requestsPerMinute} requests/min in all — ${m.enough ? 'met' : 'NOT met'}`,
  ];
}

function alertLines(a: AlertsSection): string[] {
  if (a.policies.length === 0)
    return [`  none of the project's ${a.scanned} policies carries a label that maps to this rollout`];
  return a.policies.map(
    (p) =>
      `  ${p.displayName} (${p.name})${p.enabled ? '' : ' [disabled]'}: by ${p.by}=${p.labels[p.by] ?? ''}`,
  );
}

function timelineLines(t: TimelineSection): string[] {
  return [
    `  from ${t.startAt}`,
    ...t.steps.map((s) => {
      if (s.kind === 'gate') return `  step ${s.step} manual gate reached ${s.at} (waits for a person)`;
      const weights = s.weights ? describeWeights(s.weights) : '';
      if (s.kind === 'promote') return `  step ${s.step} promote (${weights}) written ${s.at}`;
      return `  step ${s.step} ${weights}: from ${s.at}, ${s.windows} window(s), promotable ${s.promotableAt} (judged by ${s.judgedBy} at the latest)`;
    }),
    `  completes at the earliest ${t.completesAt}${t.gates > 0 ? ` (assuming each of ${t.gates} gate(s) is approved at once)` : ''}`,
  ];
}

function iamLines(iam: IamSection): string[] {
  return [
    ...iam.routes.flatMap((r) => [
      `  ${r.route} (as the ${r.principal}):`,
      ...r.permissions.map((p) => `    ${p.granted ? 'granted    ' : 'NOT granted'} ${p.permission}`),
    ]),
    ...iam.notChecked.map((n) => `  not checked: ${n}`),
  ];
}

function storeLines(s: StoreSection): string[] {
  return [
    `  rollout id: ${s.existing === null ? 'new' : `${s.existing.id} exists (${s.existing.phase})`}`,
    ...s.queues.map(
      (q) =>
        `  ${q.route}: ${q.holder === null ? 'free' : `held by ${q.holder}`}${q.waiting > 0 ? `, ${q.waiting} waiting` : ''} (whenRouteBusy: ${s.whenRouteBusy})`,
    ),
  ];
}
