/** The rollout request the README and `npm run dev` show for the demo route. */
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import type { DemoApp } from '../demo-apps.ts';

export function exampleRequest(app: DemoApp, rolloutId = 'demo-1'): RolloutRequestInput {
  return {
    rolloutId,
    route: app.route,
    stable: app.stable,
    canary: app.canary,
    steps: [
      { weight: 10, hold: '2m' },
      { weight: 30, hold: '2m' },
      { gate: 'manual', note: 'look at the dashboards, then resume' },
      { weight: 60, hold: '2m' },
    ],
    analysis: { minRequests: 20 },
    requestedBy: 'README example',
  };
}
