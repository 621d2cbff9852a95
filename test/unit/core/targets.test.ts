import { describe, expect, it } from 'vitest';
import { toLifecycleEvent } from '../../../functions/core/events.ts';
import { hookBody } from '../../../functions/core/hook-body.ts';
import type { PlanHook } from '../../../functions/core/hooks.ts';
import {
  managedRule,
  primaryRoute,
  routeKindOf,
  routesOf,
  targetsOf,
} from '../../../functions/core/targets.ts';
import {
  backendName,
  grpcRouteName,
  newRelease,
  newRollout,
  request,
  routeName,
} from '../../support/fixtures.ts';

describe('targetsOf', () => {
  it('a request with `route` is a release of one target with the request’s backends and rule', () => {
    const spec = request({ rule: 2 });
    expect(targetsOf(spec)).toEqual([
      {
        route: routeName(),
        kind: 'httpRoutes',
        rule: 2,
        stable: backendName('checkout-stable'),
        canary: backendName('checkout-canary'),
      },
    ]);
    expect(primaryRoute(spec)).toBe(routeName());
  });

  it('lists `targets` in the request’s order, each with its own backends or the request’s', () => {
    const spec = request({
      route: undefined,
      whenRouteBusy: 'reject',
      targets: [
        { route: grpcRouteName('api'), rule: 1, canary: backendName('api-canary') },
        { route: routeName('web') },
      ],
    });
    const targets = targetsOf(spec);
    expect(targets.map((t) => [t.route, t.kind, t.rule, t.stable, t.canary])).toEqual([
      [grpcRouteName('api'), 'grpcRoutes', 1, backendName('checkout-stable'), backendName('api-canary')],
      [routeName('web'), 'httpRoutes', null, backendName('checkout-stable'), backendName('checkout-canary')],
    ]);
    expect(routesOf(spec)).toEqual([grpcRouteName('api'), routeName('web')]);
    expect(primaryRoute(spec)).toBe(grpcRouteName('api'));
    expect(managedRule(targets[0] ?? targets[1] ?? fail(), null)).toMatchObject({ hint: 1, shape: null });
    expect(managedRule(targets[1] ?? fail(), { index: 3, shape: 's' })).toMatchObject({
      hint: 3,
      shape: 's',
    });
  });

  it('names the kind of each of the four route collections, and nothing else', () => {
    expect(routeKindOf('projects/p/locations/global/tcpRoutes/t')).toBe('tcpRoutes');
    expect(routeKindOf('projects/p/locations/global/tlsRoutes/t')).toBe('tlsRoutes');
    expect(routeKindOf('projects/p/locations/global/backendServices/t')).toBeNull();
  });
});

function fail(): never {
  throw new Error('missing target');
}

describe('events and hook bodies of a release of several routes', () => {
  it('carry the first route as `route` and every route in order as `routes`', () => {
    const { rollout, entry } = newRelease('rel', [grpcRouteName('api'), routeName('web')]);
    const event = toLifecycleEvent(rollout, entry);
    expect(event).toMatchObject({
      route: grpcRouteName('api'),
      routes: [grpcRouteName('api'), routeName('web')],
    });
    expect(entry.reason).toContain(`on ${grpcRouteName('api')}, ${routeName('web')} accepted`);
    const hook: PlanHook = {
      name: 'smoke',
      url: 'https://hooks.example/smoke',
      method: 'POST',
      timeoutMs: 5000,
      retries: 0,
      failAfterMs: null,
      onFailure: null,
      failureLimit: null,
    };
    expect(hookBody(rollout, 'preRollout', hook, 0, null)).toMatchObject({
      route: grpcRouteName('api'),
      routes: [grpcRouteName('api'), routeName('web')],
    });
    expect(toLifecycleEvent(newRollout('one').rollout, entry).routes).toEqual([routeName()]);
  });
});
