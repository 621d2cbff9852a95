/**
 * The three rollouts of `npm run demo`, each on its own demo application:
 *   checkout — a healthy canary, promoted through every step; each step also waits for a smoke
 *              test of the canary (a `check` hook served by local/hooks/smoke-test.ts);
 *   cart     — a canary that fails 8% of requests, rolled back by analysis (no alert policy);
 *   search   — a canary that turns bad once it serves 30%, rolled back by its Monitoring alert
 *              (its analysis windows are long, so the alert path acts first).
 */
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import type { Phase } from '../../functions/core/state.ts';
import type { DemoApp } from '../demo-apps.ts';

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
    stable: app.stable,
    canary: app.canary,
    steps,
    analysis,
    requestedBy: 'npm run demo',
    ...(smokeTestUrl === null
      ? {}
      : { hooks: { check: [{ name: 'smoke-test', url: smokeTestUrl, timeout: '15s', retries: 1 }] } }),
  });
}

const steps = [
  { weight: 10, hold: '1m' },
  { weight: 30, hold: '1m' },
  { weight: 60, hold: '1m' },
];

export const SCENARIOS: readonly Scenario[] = [
  {
    app: 'checkout',
    title: 'healthy canary, smoke-tested',
    expected: 'Succeeded',
    expectedCause: null,
    canaryErrorRatio: 0.002,
    turnsBad: null,
    alertThreshold: 0.1,
    smokeTest: true,
    request: demoRequest(steps, { minRequests: 20 }),
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
