/**
 * The three rollouts of `npm run demo`, each on its own demo application:
 *   checkout — a release of a healthy canary across the app's HTTPRoute and its GRPCRoute (the
 *              same services also serve gRPC), both moved step by step as one and promoted; the
 *              analysis judges the canary's gRPC calls by grpc-status (grpc_server_handled), its
 *              HTTP 5xx are watched by its Monitoring alert; each step also waits for a smoke
 *              test of the canary (a `check` hook served by local/hooks/smoke-test.ts);
 *   cart     — a canary that fails 8% of requests, rolled back by analysis (no alert policy);
 *   search   — a canary that turns bad once it serves 30%, rolled back by its Monitoring alert
 *              (its analysis windows are long, so the alert path acts first).
 */
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import type { Phase } from '../../functions/core/state.ts';
import type { DemoApp } from '../demo-apps.ts';
import { grpcMetricSource, grpcRouteOf } from '../protocols.ts';

export interface Scenario {
  readonly app: string;
  readonly title: string;
  readonly expected: Phase;
  /** What must have caused the outcome (history actor prefix of the rollback), if it matters. */
  readonly expectedCause: 'verdict' | 'alert' | null;
  /** Canary error ratio from the start. */
  readonly canaryErrorRatio: number;
  /** Canary error ratio once this step's weights are live (1-based), if it turns bad mid-rollout. */
  readonly turnsBad: { readonly atStep: number; readonly errorRatio: number } | null;
  /** Alert threshold on the canary's 5xx ratio; null: no alert policy. */
  readonly alertThreshold: number | null;
  /** Whether each step waits for a smoke test of the canary (a `check` hook). */
  readonly smokeTest: boolean;
  /** Whether the release also moves the app's GRPCRoute (and gRPC traffic is sent). */
  readonly grpc: boolean;
  /** `smokeTestUrl`: the local smoke-test service, when the scenario has one. */
  request(app: DemoApp, runId: string, smokeTestUrl: string | null): RolloutRequestInput;
}

/** The request every demo rollout publishes; scenarios differ only in steps and analysis. */
function demoRequest(
  steps: RolloutRequestInput['steps'],
  analysis: RolloutRequestInput['analysis'],
): Scenario['request'] {
  return (app, runId, smokeTestUrl) => ({
    rolloutId: `${app.name}-${runId}`,
    route: app.route,
    ...sharedFields(app, smokeTestUrl, steps, analysis),
  });
}

/**
 * A release across the app's HTTPRoute and GRPCRoute: written in that order at every step, live
 * once both are; judged on the canary's gRPC calls by grpc-status (Cloud Run's request metrics
 * would count a failed call as HTTP 200); the app's alert policy watches its HTTP 5xx.
 */
function releaseRequest(
  steps: RolloutRequestInput['steps'],
  analysis: NonNullable<RolloutRequestInput['analysis']>,
): Scenario['request'] {
  return (app, runId, smokeTestUrl) => ({
    rolloutId: `${app.name}-${runId}`,
    targets: [{ route: app.route }, { route: grpcRouteOf(app) }],
    ...sharedFields(app, smokeTestUrl, steps, {
      ...analysis,
      metrics: { stable: grpcMetricSource(app.stableService), canary: grpcMetricSource(app.canaryService) },
    }),
  });
}

/** Backends, steps, analysis, who asked and the smoke-test hook: the same in every demo request. */
function sharedFields(
  app: DemoApp,
  smokeTestUrl: string | null,
  steps: RolloutRequestInput['steps'],
  analysis: RolloutRequestInput['analysis'],
) {
  return {
    stable: app.stable,
    canary: app.canary,
    steps,
    analysis,
    requestedBy: 'npm run demo',
    ...(smokeTestUrl === null
      ? {}
      : { hooks: { check: [{ name: 'smoke-test', url: smokeTestUrl, timeout: '15s', retries: 1 }] } }),
  };
}

const steps = [
  { weight: 10, hold: '1m' },
  { weight: 30, hold: '1m' },
  { weight: 60, hold: '1m' },
];

export const SCENARIOS: readonly Scenario[] = [
  {
    app: 'checkout',
    title: 'HTTP + gRPC, smoke-tested',
    expected: 'Succeeded',
    expectedCause: null,
    canaryErrorRatio: 0.002,
    turnsBad: null,
    alertThreshold: 0.1,
    smokeTest: true,
    grpc: true,
    request: releaseRequest(steps, { minRequests: 20 }),
  },
  {
    app: 'cart',
    title: 'faulty canary (8% errors)',
    expected: 'RolledBack',
    expectedCause: 'verdict',
    canaryErrorRatio: 0.08,
    turnsBad: null,
    alertThreshold: null,
    smokeTest: false,
    grpc: false,
    request: demoRequest(steps, { minRequests: 20 }),
  },
  {
    app: 'search',
    title: 'canary turns bad at 30%',
    expected: 'RolledBack',
    expectedCause: 'alert',
    canaryErrorRatio: 0.002,
    turnsBad: { atStep: 2, errorRatio: 0.6 },
    alertThreshold: 0.1,
    smokeTest: false,
    grpc: false,
    // Long windows: the alert (over the same lagged minute points) must act before analysis does.
    request: demoRequest(
      [
        { weight: 10, hold: '1m' },
        { weight: 30, hold: '4m' },
        { weight: 60, hold: '1m' },
      ],
      { interval: '4m', minRequests: 20 },
    ),
  },
];
