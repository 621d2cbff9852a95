/** rolloutctl plan's small decisions: which alert policies map to a rollout, the traffic the judge needs, the config file. */
import { describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../../cli/controller-config.ts';
import { policiesFor } from '../../../functions/app/plan/alerts.ts';
import { trafficNeeded } from '../../../functions/app/plan/metrics.ts';
import { newRollout, routeName } from '../../support/fixtures.ts';

const policy = (name: string, userLabels: Record<string, string>) => ({
  name: `projects/p/alertPolicies/${name}`,
  displayName: name,
  enabled: true,
  userLabels,
});

describe('policiesFor', () => {
  const rollout = {
    rolloutId: 'r-1',
    routes: [routeName('checkout')],
    canaries: ['checkout-canary', 'checkout-run'],
  };

  it('maps by the first label the alert handler reads: rollout_id, then rollout_route, then rollout_canary', () => {
    const matched = policiesFor(
      [
        policy('by-id', { rollout_id: 'r-1', rollout_route: 'elsewhere' }),
        policy('other-id', { rollout_id: 'r-2', rollout_route: 'checkout' }),
        policy('by-route', { rollout_route: 'checkout', rollout_canary: 'nope' }),
        policy('by-canary', { rollout_canary: 'checkout-run' }),
        policy('other-canary', { rollout_canary: 'cart-canary' }),
        policy('unlabelled', { team: 'shop' }),
      ],
      rollout,
    );
    expect(matched.map((m) => [m.displayName, m.by])).toEqual([
      ['by-id', 'rollout_id'],
      ['by-route', 'rollout_route'],
      ['by-canary', 'rollout_canary'],
    ]);
  });
});

describe('trafficNeeded', () => {
  it('is minRequests canary requests per window at the first weight, as requests per minute of both backends', () => {
    const { rollout } = newRollout('r', { analysis: { minRequests: 50, interval: '2m' } });
    expect(trafficNeeded(rollout.plan)).toEqual({
      minRequests: 50,
      windowMinutes: 2,
      firstCanaryPercent: 10,
      requestsPerMinute: 250,
    });
  });
});

describe('parseEnvFile', () => {
  it('reads KEY=VALUE lines: comments, export, JSON-quoted and bare values', () => {
    const text = [
      '# the controller',
      'export GOOGLE_CLOUD_PROJECT="shop"',
      'DEFAULT_METRICS="{\\"a\\":{\\"preset\\":\\"cloudRun\\",\\"service\\":\\"a\\"}}"',
      'ALLOWED_ROUTES=projects/shop/locations/global/httpRoutes/a=b',
      '',
    ].join('\n');
    expect(parseEnvFile(text, 'c.env')).toEqual({
      GOOGLE_CLOUD_PROJECT: 'shop',
      DEFAULT_METRICS: '{"a":{"preset":"cloudRun","service":"a"}}',
      ALLOWED_ROUTES: 'projects/shop/locations/global/httpRoutes/a=b',
    });
  });

  it('names the line that is not KEY=VALUE', () => {
    expect(() => parseEnvFile('A=1\nnonsense\n', 'c.env')).toThrow('c.env:2: expected KEY=VALUE');
  });
});
