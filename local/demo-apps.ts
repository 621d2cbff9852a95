/**
 * Demo applications of the local cloud: each has an HTTPRoute on the demo mesh (with more rules
 * and settings than the rollout touches, so a run shows they survive), a stable and a canary
 * backend service, and an alert policy on the canary's 5xx ratio labelled for the controller.
 */
import { lastSegment } from '../functions/core/resource-name.ts';
import type { HttpRoute } from './network-services/route-feed.ts';

export const STATIC_SERVICE = 'static-assets';
export const ALERTS_TOPIC = 'rollout-alerts';

export interface DemoApp {
  readonly name: string;
  readonly hostname: string;
  readonly route: string;
  readonly stable: string;
  readonly canary: string;
  /** Cloud Run service names behind the backend services (the metrics' service_name). */
  readonly stableService: string;
  readonly canaryService: string;
}

export function demoApp(project: string, name: string): DemoApp {
  const backend = (service: string) => `projects/${project}/locations/global/backendServices/${service}`;
  return {
    name,
    hostname: `${name}.internal`,
    route: `projects/${project}/locations/global/httpRoutes/${name}`,
    stable: backend(`${name}-v1`),
    canary: backend(`${name}-v2`),
    stableService: `${name}-v1`,
    canaryService: `${name}-v2`,
  };
}

export function demoRoute(app: DemoApp, staticBackend: string): HttpRoute {
  const project = app.route.split('/')[1] ?? 'demo-project';
  return {
    name: app.route,
    description: `Demo route of ${app.name}: static assets, then the application`,
    hostnames: [app.hostname],
    meshes: [`projects/${project}/locations/global/meshes/demo-mesh`],
    labels: { app: app.name, team: 'demo' },
    rules: [
      {
        matches: [{ prefixMatch: '/static/' }],
        action: { destinations: [{ serviceName: staticBackend }], timeout: '5s' },
      },
      {
        action: {
          destinations: [{ serviceName: app.stable }],
          timeout: '10s',
          requestHeaderModifier: { set: { 'x-route': app.name } },
        },
      },
    ],
  };
}

export function notificationChannel(project: string) {
  return {
    name: `projects/${project}/notificationChannels/canary-controller`,
    type: 'pubsub',
    displayName: 'Canary controller',
    labels: { topic: `projects/${project}/topics/${ALERTS_TOPIC}` },
  };
}

/** Canary 5xx ratio above `threshold` for 30 s (scaled), labelled with the route the controller maps. */
export function canaryAlertPolicy(project: string, app: DemoApp, threshold = 0.1) {
  const selection = `resource.type = "cloud_run_revision" AND resource.labels.service_name = "${app.canaryService}" AND metric.type = "run.googleapis.com/request_count"`;
  const aggregation = {
    alignmentPeriod: '60s',
    // ALIGN_SUM, not ALIGN_DELTA: Google interpolates ALIGN_DELTA over periods without points.
    perSeriesAligner: 'ALIGN_SUM',
    crossSeriesReducer: 'REDUCE_SUM',
    groupByFields: ['resource.label.service_name'],
  };
  return {
    displayName: `${app.name} canary 5xx ratio above ${threshold}`,
    severity: 'CRITICAL',
    combiner: 'OR',
    // Route and canary: enough to take the canary out even while Firestore cannot be reached.
    userLabels: { rollout_route: app.name, rollout_canary: lastSegment(app.canary) },
    notificationChannels: [notificationChannel(project).name],
    alertStrategy: { notificationPrompts: ['OPENED', 'CLOSED'], autoClose: '1800s' },
    conditions: [
      {
        displayName: `5xx share of ${app.canaryService} requests`,
        conditionThreshold: {
          filter: `${selection} AND metric.labels.response_code_class = "5xx"`,
          denominatorFilter: selection,
          aggregations: [aggregation],
          denominatorAggregations: [aggregation],
          comparison: 'COMPARISON_GT',
          thresholdValue: threshold,
          duration: '30s',
          trigger: { count: 1 },
          evaluationMissingData: 'EVALUATION_MISSING_DATA_INACTIVE',
        },
      },
    ],
  };
}
