/** Rule actions the local mesh applies (pure parts). */
import { describe, expect, it } from 'vitest';
import {
  applyHeaderModifier,
  decideFault,
  type HeaderBag,
  ignoredActionFields,
  parseDuration,
  redirectFor,
  rewritePath,
  routeTimeoutMs,
} from '../../../local/mesh/actions.ts';
import type { RequestView } from '../../../local/mesh/match.ts';

describe('durations', () => {
  it('reads protobuf JSON durations in milliseconds', () => {
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('0.25s')).toBe(250);
    expect(parseDuration('1.000000001s')).toBeCloseTo(1000.000001, 9);
    expect(parseDuration('5')).toBeNull();
    expect(parseDuration(undefined)).toBeNull();
  });

  it('uses the rule timeout, else the default, and none with a fault policy', () => {
    expect(routeTimeoutMs({ timeout: '2s' }, 15_000)).toBe(2000);
    expect(routeTimeoutMs({}, 15_000)).toBe(15_000);
    expect(
      routeTimeoutMs({ timeout: '2s', faultInjectionPolicy: { abort: { httpStatus: 503 } } }, 15_000),
    ).toBe(0);
  });
});

describe('header modifiers', () => {
  it('removes, then sets, then adds, with case-insensitive names', () => {
    const bag: HeaderBag = { 'x-debug': ['1'], 'x-route': ['old'], accept: ['a'] };
    applyHeaderModifier(bag, {
      remove: ['X-Debug', 'x-route'],
      set: { 'X-Backend': 'stable' },
      add: { 'x-route': 'shop', Accept: 'b' },
    });
    expect(bag).toEqual({ 'x-backend': ['stable'], 'x-route': ['shop'], accept: ['a', 'b'] });
  });
});

describe('url rewrite', () => {
  it('replaces the part of the path the match consumed', () => {
    expect(rewritePath('/api/items', { prefixMatch: '/api' }, '/v2')).toBe('/v2/items');
    expect(rewritePath('/API/items', { prefixMatch: '/api', ignoreCase: true }, '/v1')).toBe('/v1/items');
    expect(rewritePath('/search/x', { prefixMatch: '/search/' }, '/')).toBe('/x');
    expect(rewritePath('/exact', { fullPathMatch: '/exact' }, '/other')).toBe('/other');
    expect(rewritePath('/find/shoes', { regexMatch: '/find/.*' }, '/search')).toBe('/search');
    expect(rewritePath('/x', null, '/v2/')).toBe('/v2/x');
    expect(rewritePath('/x', { prefixMatch: '/x' }, undefined)).toBe('/x');
  });
});

describe('redirects', () => {
  const req: RequestView = { host: 'shop.internal:8080', path: '/old/page', query: 'a=1', headers: {} };

  it('builds the location from host, path or prefix rewrite, scheme, port and query', () => {
    expect(redirectFor(req, { prefixMatch: '/old' }, { prefixRewrite: '/new' })).toEqual({
      status: 301,
      location: 'http://shop.internal:8080/new/page?a=1',
    });
    expect(
      redirectFor(req, null, {
        hostRedirect: 'www.example.com',
        httpsRedirect: true,
        pathRedirect: '/',
        stripQuery: true,
        responseCode: 'TEMPORARY_REDIRECT',
      }),
    ).toEqual({ status: 307, location: 'https://www.example.com/' });
    expect(redirectFor(req, null, { portRedirect: 9000, responseCode: 'FOUND' }).location).toBe(
      'http://shop.internal:9000/old/page?a=1',
    );
  });
});

describe('fault injection', () => {
  it('delays and aborts by percentage of the draws', () => {
    const policy = {
      delay: { fixedDelay: '0.1s', percentage: 50 },
      abort: { httpStatus: 503, percentage: 10 },
    };
    expect(decideFault(policy, () => 0.05)).toEqual({ delayMs: 100, abortStatus: 503 });
    expect(decideFault(policy, () => 0.5)).toEqual({ delayMs: 0, abortStatus: null });
    expect(decideFault({ abort: { httpStatus: 500 } }, () => 0)).toEqual({ delayMs: 0, abortStatus: null });
  });
});

describe('ignored fields', () => {
  it('names the action fields the local mesh does not apply', () => {
    expect(
      ignoredActionFields({
        destinations: [{ serviceName: 'a' }],
        timeout: '1s',
        retryPolicy: { numRetries: 2 },
        corsPolicy: { allowOrigins: ['x'] },
      }),
    ).toEqual(['retryPolicy', 'corsPolicy']);
  });
});
