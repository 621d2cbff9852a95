import { describe, expect, it } from 'vitest';
import { defaultMetricSource, loadConfig, routeAllowed } from '../../../functions/app/config.ts';
import { InvalidInputError } from '../../../functions/errors.ts';

const base = {
  GOOGLE_CLOUD_PROJECT: 'p',
  ALLOWED_ROUTES:
    'projects/p/locations/global/httpRoutes/checkout, projects/p/locations/global/httpRoutes/shop-*',
};

describe('controller configuration', () => {
  it('reads defaults and the allowlist', () => {
    const config = loadConfig(base);
    expect(config.allowedRoutes).toHaveLength(2);
    expect(config.route.leaseMs).toBe(120_000);
    expect(config.eventsTopic).toBe('rollout-events');
    expect(config.workflow).toBeNull();
    expect(routeAllowed(config, 'projects/p/locations/global/httpRoutes/checkout')).toBe(true);
    expect(routeAllowed(config, 'projects/p/locations/global/httpRoutes/shop-eu')).toBe(true);
    expect(routeAllowed(config, 'projects/p/locations/global/httpRoutes/checkout2')).toBe(false);
    expect(routeAllowed(config, 'projects/q/locations/global/httpRoutes/checkout')).toBe(false);
  });

  it('lists every problem at once and names the variable', () => {
    try {
      loadConfig({ ALLOWED_ROUTES: 'checkout', ROUTE_LEASE_SECONDS: 'soon', DEFAULT_METRICS: '{' });
      throw new Error('expected failure');
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError);
      const fields = (error as InvalidInputError).problems.map((p) => p.field);
      expect(fields).toEqual(
        expect.arrayContaining([
          'GOOGLE_CLOUD_PROJECT',
          'ALLOWED_ROUTES[0]',
          'ROUTE_LEASE_SECONDS',
          'DEFAULT_METRICS',
        ]),
      );
    }
  });

  it('needs the workflow name and advance URL together, and refuses a time scale in production', () => {
    expect(() => loadConfig({ ...base, WORKFLOW_NAME: 'projects/p/locations/l/workflows/w' })).toThrow(
      /together/,
    );
    expect(() => loadConfig({ ...base, TIME_SCALE: '20' })).toThrow(/only for the local cloud/);
    const local = loadConfig({ ...base, TIME_SCALE: '20', NETWORK_SERVICES_ENDPOINT: 'http://127.0.0.1:1/' });
    expect(local.timeScale).toBe(20);
  });

  it('derives metric sources from configuration or the backend name', () => {
    const config = loadConfig({
      ...base,
      DEFAULT_METRICS: JSON.stringify({ 'checkout-v2': { preset: 'internalLb', backend: 'lb-checkout-v2' } }),
    });
    expect(defaultMetricSource(config, 'projects/p/locations/global/backendServices/checkout-v2')).toEqual({
      preset: 'internalLb',
      backend: 'lb-checkout-v2',
    });
    expect(defaultMetricSource(config, 'projects/p/locations/global/backendServices/cart')).toEqual({
      preset: 'cloudRun',
      service: 'cart',
    });
  });
});
