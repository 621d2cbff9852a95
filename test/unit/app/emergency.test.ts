/** Taking the canary out without Firestore: which route an alert names, when it acts, what it changes. */
import { describe, expect, it } from 'vitest';
import { snapshotOf } from '../../../functions/adapters/route-rules.ts';
import { loadConfig } from '../../../functions/app/config.ts';
import { routesNamed, withStoreDeadline } from '../../../functions/app/emergency.ts';
import { createLogger } from '../../../functions/app/log.ts';
import { planEviction } from '../../../functions/core/routing/write-plan.ts';
import { TransientError } from '../../../functions/errors.ts';
import { MemoryRouter } from '../../support/memory-ports.ts';

const P = 'projects/p/locations/global';
const config = loadConfig({
  GOOGLE_CLOUD_PROJECT: 'p',
  ALLOWED_ROUTES: `${P}/httpRoutes/checkout,projects/q/locations/europe-west1/httpRoutes/shop-*`,
  STORE_DEADLINE_SECONDS: '0.05',
});
const log = createLogger({}, () => {});

describe('routesNamed', () => {
  it('finds the allowed route an alert label names, exactly or through a wildcard, and nothing else', () => {
    expect(routesNamed(config, 'checkout')).toEqual([`${P}/httpRoutes/checkout`]);
    expect(routesNamed(config, 'shop-eu')).toEqual(['projects/q/locations/europe-west1/httpRoutes/shop-eu']);
    expect(routesNamed(config, 'cart')).toEqual([]);
  });
});

describe('withStoreDeadline', () => {
  const target = {
    routes: [`${P}/httpRoutes/checkout`],
    canary: `${P}/backendServices/checkout-canary`,
    why: 'alert a',
  };

  it('takes the canary out when the store does not answer in time, then still waits for it', async () => {
    const router = new MemoryRouter({ stable: 70, canary: 30 });
    let answer = () => {};
    const store = new Promise<string>((resolve) => {
      answer = () => resolve('recorded');
    });
    const outcome = withStoreDeadline({ router: async () => router, config, log }, target, store);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(router.weights).toEqual({ stable: 100, canary: 0 });
    answer();
    expect(await outcome).toBe('recorded');
  });

  it('does nothing when the store answers in time or no target is named, and acts at once on a failed store', async () => {
    const router = new MemoryRouter({ stable: 70, canary: 30 });
    const deps = { router: async () => router, config, log };
    expect(await withStoreDeadline(deps, target, Promise.resolve(1))).toBe(1);
    expect(await withStoreDeadline(deps, null, new Promise((r) => setTimeout(() => r(2), 100)))).toBe(2);
    expect(router.weights).toEqual({ stable: 70, canary: 30 });
    const down = new TransientError('Firestore unavailable', { code: 'STORE_UNAVAILABLE', hint: 'retry' });
    await expect(withStoreDeadline(deps, target, Promise.reject(down))).rejects.toBe(down);
    expect(router.weights).toEqual({ stable: 100, canary: 0 });
  });
});

describe('planEviction', () => {
  it('takes the canary out of every rule that also routes elsewhere; a rule only to the canary stays', () => {
    const snapshot = snapshotOf({
      rules: [
        { action: { destinations: [{ serviceName: `${P}/backendServices/checkout-canary` }] } },
        {
          action: {
            destinations: [
              { serviceName: `${P}/backendServices/checkout-stable`, weight: 60 },
              { serviceName: `${P}/backendServices/checkout-canary`, weight: 30 },
              { serviceName: `${P}/backendServices/manual`, weight: 10 },
            ],
          },
        },
      ],
    });
    expect(planEviction(snapshot, 'checkout-canary')).toEqual({
      edits: [
        {
          ruleIndex: 1,
          destinations: [
            { name: `${P}/backendServices/checkout-stable`, weight: 60 },
            { name: `${P}/backendServices/manual`, weight: 10 },
          ],
        },
      ],
      left: [0],
    });
  });
});
