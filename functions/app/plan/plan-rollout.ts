/**
 * rolloutctl plan: what starting this request would do, worked out without changing anything.
 * It runs the controller's own checks (checkRequest, readTarget, inspectTargets, measurable — the
 * functions startRollout calls) collecting every problem, plans each step's route write with the
 * core's planWrite, reads the last minutes of traffic through the controller's MetricsReader, and
 * lists the alert policies and the permissions it can see. Reads only: routes, metrics, alert
 * policies, the rollout and the routes' queues in Firestore; writes nothing and publishes nothing.
 */
import { normalisePlan, type Plan } from '../../core/plan.ts';
import type { RolloutRequest } from '../../core/request.ts';
import { lastSegment } from '../../core/resource-name.ts';
import type { RouteSnapshot } from '../../core/routing/snapshot.ts';
import { stepWrites } from '../../core/routing/step-diff.ts';
import { managedRule, targetsOf } from '../../core/targets.ts';
import { rolloutTimeline } from '../../core/timeline.ts';
import { ControllerError, InvalidInputError } from '../../errors.ts';
import type { AlertPolicies } from '../../ports/alert-policies.ts';
import type { MetricsReader } from '../../ports/metrics-reader.ts';
import type { RolloutStore } from '../../ports/rollout-store.ts';
import type { RoutePermissions } from '../../ports/route-permissions.ts';
import type { TrafficRouter } from '../../ports/traffic-router.ts';
import { type Config, routeAllowed } from '../config.ts';
import { checkRequest, measurable, metricSources, planContext } from '../start-rollout.ts';
import { type FoundRule, inspectTargets, readTarget } from '../start-targets.ts';
import { routeBusy } from '../supersede.ts';
import { policiesFor } from './alerts.ts';
import { metricsNow } from './metrics.ts';
import { permissionsOn } from './permissions.ts';
import { notChecked, problemOf } from './problems.ts';
import type {
  NotChecked,
  PlanProblem,
  PlanReport,
  RouteFinding,
  RouteWrites,
  TimelineSection,
} from './report.ts';
import { storeChecks } from './store-checks.ts';

export interface PlanDeps {
  readonly config: Config;
  readonly router: TrafficRouter;
  readonly metrics: MetricsReader;
  readonly store: RolloutStore;
  readonly alerts: AlertPolicies;
  readonly permissions: RoutePermissions;
  readonly clock: () => number;
}

export async function planRollout(deps: PlanDeps, body: unknown): Promise<PlanReport> {
  const checked = checkRequest(deps.config, body);
  if (checked.kind === 'invalid')
    return invalidReport(checked.problem.problems, problemOf('schema', checked.problem));
  const { request } = checked;
  const problems: PlanProblem[] = checked.problems.map((p) =>
    problemOf(p.code === 'ROUTE_NOT_ALLOWED' ? 'allowlist' : 'request', p),
  );
  const now = deps.clock();
  const sources = metricSources(deps.config, request);
  const plan = normalisePlan(request, planContext(deps.config, sources));
  const routes = await routeSection(deps, request, problems);
  const metrics = await guarded(async () => {
    try {
      const found = await metricsNow(deps.metrics, sources, plan, now);
      problems.push(...found.problems);
      return found.section;
    } catch (error) {
      // A query Monitoring rejects (a request's filter source) would fail the rollout too.
      if (error instanceof InvalidInputError) problems.push(problemOf('metrics', error));
      throw error;
    }
  });
  const labels = {
    rolloutId: request.rolloutId ?? null,
    routes: targetsOf(request).map((t) => t.route),
    canaries: canaryNames(request, sources.canary.source),
  };
  const alerts = await guarded(async () => {
    const all = await deps.alerts.list();
    return { checked: true as const, policies: policiesFor(all, labels), scanned: all.length };
  });
  const iam = await guarded(() => permissionsOn(deps.permissions, request));
  const store = await storeChecks(deps.store, request);
  problems.push(...store.problems);
  return {
    ok: problems.length === 0,
    problems,
    rolloutId: request.rolloutId ?? null,
    schema: { valid: true, issues: [] },
    allowlist: targetsOf(request).map((t) => ({
      route: t.route,
      allowed: routeAllowed(deps.config, t.route),
    })),
    routes: routes.findings,
    writes: routes.writes(plan),
    metrics,
    alerts,
    timeline: timelineOf(plan, now),
    iam,
    store: store.section,
  };
}

function canaryNames(
  request: RolloutRequest,
  source: { readonly preset: string; readonly service?: string },
): string[] {
  const names = targetsOf(request).map((t) => lastSegment(t.canary));
  return [...new Set(source.service === undefined ? names : [...names, source.service])];
}

/**
 * A section whose reads may be refused (permission, API disabled): a ControllerError that trying
 * again cannot help makes it "not checked" with the reason (never passed, never a problem of the
 * request); an unreachable service is thrown (exit 5).
 */
async function guarded<T>(work: () => Promise<T>): Promise<T | NotChecked> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof ControllerError) || error.retryable) throw error;
    return notChecked(`${error.code}: ${error.message}`);
  }
}

interface RouteSection {
  readonly findings: readonly RouteFinding[];
  writes(plan: Plan): readonly RouteWrites[];
}

/** Reads every target's route and finds its managed rule as startRollout would. */
async function routeSection(
  deps: PlanDeps,
  request: RolloutRequest,
  problems: PlanProblem[],
): Promise<RouteSection> {
  const targets = targetsOf(request);
  const snapshots = await Promise.all(
    targets.map((_, i) =>
      readTarget(deps.router, request, i).catch((error: unknown) => {
        if (!(error instanceof ControllerError) || error.retryable) throw error;
        problems.push(problemOf('routes', error));
        return error;
      }),
    ),
  );
  const read = snapshots.map((s) => (s instanceof ControllerError ? null : s));
  const inspected = inspectTargets(request, read, await routeBusy(deps.store, request));
  problems.push(...inspected.problems.map((p) => problemOf('routes', p)));
  const readable = read.filter((s): s is RouteSnapshot => s !== null);
  try {
    measurable(metricSources(deps.config, request), readable);
  } catch (error) {
    if (!(error instanceof ControllerError)) throw error;
    problems.push(problemOf('request', error));
  }
  const findings = targets.map((t, i) => finding(t, snapshots[i], inspected.found[i] ?? null));
  const writes = (plan: Plan): RouteWrites[] =>
    targets.flatMap((t, i) => {
      const route = read[i];
      const found = inspected.found[i];
      if (route === null || route === undefined || found === null || found === undefined) return [];
      const rule = managedRule(t, { index: found.index, shape: found.shape });
      return [{ route: t.route, steps: stepWrites(route, rule, plan.steps) }];
    });
  return { findings, writes };
}

function finding(
  t: ReturnType<typeof targetsOf>[number],
  read: RouteSnapshot | ControllerError | undefined,
  found: FoundRule | null,
): RouteFinding {
  if (read === undefined || read instanceof ControllerError) {
    return { route: t.route, read: false, reason: read?.message ?? 'not read' };
  }
  const rule = found === null ? null : { index: found.index, weights: found.weights };
  const destinations = (found === null ? [] : (read.rules[found.index]?.destinations ?? [])).map((d) => ({
    name: d.name,
    weight: d.weight,
  }));
  return {
    route: t.route,
    read: true,
    updateTime: read.updateTime,
    rule,
    stable: t.stable,
    canary: t.canary,
    destinations,
  };
}

function timelineOf(plan: Plan, now: number): TimelineSection {
  const iso = (ms: number) => new Date(ms).toISOString();
  const t = rolloutTimeline(plan, now);
  return {
    startAt: iso(now),
    completesAt: iso(t.completesAt),
    gates: t.gates,
    steps: t.steps.map((s) => {
      if (s.kind === 'gate') return { step: s.step, kind: s.kind, at: iso(s.reachedAt) };
      if (s.kind === 'promote')
        return { step: s.step, kind: s.kind, weights: s.weights, at: iso(s.writtenAt) };
      return {
        step: s.step,
        kind: s.kind,
        weights: s.weights,
        at: iso(s.startsAt),
        windows: s.windows,
        promotableAt: iso(s.promotableAt),
        judgedBy: iso(s.judgedByAt),
      };
    }),
  };
}

function invalidReport(issues: PlanReport['schema']['issues'], problem: PlanProblem): PlanReport {
  const why = notChecked('the request does not pass the schema');
  return {
    ok: false,
    problems: [problem],
    rolloutId: null,
    schema: { valid: false, issues },
    allowlist: [],
    routes: why,
    writes: why,
    metrics: why,
    alerts: why,
    timeline: why,
    iam: why,
    store: why,
  };
}
