/** Route, rule and match selection of the local mesh (pure). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fullMatchRegex,
  headerMatches,
  hostnameMatches,
  normalizeHost,
  type RequestView,
  routeMatches,
  select,
  selectRoute,
  selectRule,
} from '../../../local/mesh/match.ts';
import type { HeaderMatch, HttpRoute, RouteMatch, RouteRule } from '../../../local/mesh/route-types.ts';

function request(
  path: string,
  headers: Record<string, string> = {},
  query = '',
  host = 'shop.internal',
): RequestView {
  return { host, path, query, headers };
}

function route(name: string, hostnames: string[], rules: RouteRule[] = [{}]): HttpRoute {
  return { name, hostnames, rules };
}

describe('hostnames', () => {
  it('compares case-insensitively without port or trailing dot', () => {
    expect(normalizeHost('Shop.Internal:8080')).toBe('shop.internal');
    expect(normalizeHost('shop.internal.')).toBe('shop.internal');
    expect(normalizeHost('[::1]:80')).toBe('[::1]');
    expect(hostnameMatches('shop.internal', 'SHOP.internal:80')).toBe(true);
    expect(hostnameMatches('shop.internal', 'shop.internal.evil')).toBe(false);
  });

  it('lets a leading *. match one or more labels, but not the bare suffix', () => {
    expect(hostnameMatches('*.example.com', 'a.example.com')).toBe(true);
    expect(hostnameMatches('*.example.com', 'a.b.example.com')).toBe(true);
    expect(hostnameMatches('*.example.com', 'example.com')).toBe(false);
    expect(hostnameMatches('*.example.com', 'aexample.com')).toBe(false);
  });

  it('prefers an exact name, then the longest wildcard, then the earlier route', () => {
    const routes = [
      route('wide', ['*.com']),
      route('star', ['*']),
      route('suffix', ['*.example.com']),
      route('exact', ['api.example.com']),
      route('suffix-again', ['*.example.com']),
    ];
    expect(selectRoute(routes, 'api.example.com')?.name).toBe('exact');
    expect(selectRoute(routes, 'www.example.com')?.name).toBe('suffix');
    expect(selectRoute(routes, 'other.com')?.name).toBe('wide');
    expect(selectRoute(routes, 'localhost')?.name).toBe('star');
    expect(selectRoute([route('only', ['a.internal'])], 'b.internal')).toBeNull();
  });
});

describe('rules', () => {
  it('takes the first rule that matches; a rule without matches catches everything', () => {
    const r = route(
      'r',
      ['shop.internal'],
      [
        { matches: [{ prefixMatch: '/api' }], action: { destinations: [{ serviceName: 'api' }] } },
        { action: { destinations: [{ serviceName: 'default' }] } },
        { matches: [{ prefixMatch: '/' }], action: { destinations: [{ serviceName: 'never' }] } },
      ],
    );
    expect(selectRule(r, request('/api/items'))?.ruleIndex).toBe(0);
    expect(selectRule(r, request('/other'))?.ruleIndex).toBe(1);
    expect(selectRule(r, request('/other'))?.match).toBeNull();
  });

  it('says whether the host or the rules failed', () => {
    const routes = [route('r', ['shop.internal'], [{ matches: [{ fullPathMatch: '/only' }] }])];
    expect(select(routes, request('/only')).kind).toBe('rule');
    expect(select(routes, request('/else')).kind).toBe('noRule');
    expect(select(routes, request('/only', {}, '', 'x.internal'))).toEqual({
      kind: 'noRoute',
      host: 'x.internal',
    });
  });

  type Kind = 'hit' | 'miss' | 'all' | 'hitAmongMisses';
  const kinds = fc.array(fc.constantFrom<Kind>('hit', 'miss', 'all', 'hitAmongMisses', 'miss'), {
    maxLength: 8,
  });
  const paths = fc
    .array(fc.stringMatching(/^[a-z0-9]{1,6}$/), { minLength: 1, maxLength: 4 })
    .map((parts) => `/${parts.join('/')}`);

  function ruleOf(kind: Kind, path: string): RouteRule {
    const hit: RouteMatch = { prefixMatch: path.slice(0, 1 + Math.floor(path.length / 2)) };
    const miss: RouteMatch = { prefixMatch: `${path}/deeper` };
    switch (kind) {
      case 'hit':
        return { matches: [hit] };
      case 'miss':
        return { matches: [miss, { fullPathMatch: `${path}x` }] };
      case 'all':
        return {};
      case 'hitAmongMisses':
        return { matches: [miss, hit, miss] };
    }
  }

  it('property: the selected rule is the first one that is a catch-all or has a matching match', () => {
    fc.assert(
      fc.property(kinds, paths, (ks, path) => {
        const r = route(
          'r',
          ['shop.internal'],
          ks.map((k) => ruleOf(k, path)),
        );
        const expected = ks.findIndex((k) => k !== 'miss');
        const got = selectRule(r, request(path));
        expect(got === null ? -1 : got.ruleIndex).toBe(expected);
      }),
    );
  });
});

describe('paths', () => {
  it('matches prefixes and full paths, case-insensitively when asked', () => {
    expect(routeMatches({ prefixMatch: '/API' }, request('/api/x'))).toBe(false);
    expect(routeMatches({ prefixMatch: '/API', ignoreCase: true }, request('/api/x'))).toBe(true);
    expect(routeMatches({ fullPathMatch: '/a' }, request('/a/'))).toBe(false);
    expect(routeMatches({ fullPathMatch: '/A', ignoreCase: true }, request('/a'))).toBe(true);
    expect(routeMatches({}, request('/anything'))).toBe(true);
  });

  it('matches a regex against the whole path, which excludes the query', () => {
    expect(routeMatches({ regexMatch: '/items/[0-9]+' }, request('/items/42', {}, 'x=1'))).toBe(true);
    expect(routeMatches({ regexMatch: '/items/[0-9]+' }, request('/items/42/edit'))).toBe(false);
    expect(routeMatches({ regexMatch: '[0-9]+' }, request('/items/42'))).toBe(false);
    expect(routeMatches({ regexMatch: '^/find/.*' }, request('/find/shoes'))).toBe(true);
  });

  it('applies ignoreCase to prefix and full path only; a regex takes (?i)', () => {
    expect(routeMatches({ regexMatch: '/find/.*', ignoreCase: true }, request('/FIND/x'))).toBe(false);
    expect(routeMatches({ regexMatch: '(?i)/find/.*' }, request('/FIND/x'))).toBe(true);
  });

  it('translates RE2-only spellings and never matches with an expression that does not compile', () => {
    expect(fullMatchRegex('(?P<id>[0-9]+)')?.test('12')).toBe(true);
    expect(fullMatchRegex('\\A/a\\z')?.test('/a')).toBe(true);
    expect(fullMatchRegex('(?U)a+')).toBeNull();
    expect(routeMatches({ regexMatch: '/(unclosed' }, request('/(unclosed'))).toBe(false);
  });
});

describe('headers', () => {
  const headers = { 'x-tenant': 'eu-west', 'x-beta': 'true', 'x-count': '42', accept: 'a,b' };

  it('supports exact, prefix, suffix, regex, present and range matchers with case-insensitive names', () => {
    const yes: HeaderMatch[] = [
      { header: 'X-Tenant', exactMatch: 'eu-west' },
      { header: 'x-tenant', prefixMatch: 'eu-' },
      { header: 'x-tenant', suffixMatch: '-west' },
      { header: 'x-tenant', regexMatch: 'eu-(west|east)' },
      { header: 'x-beta', presentMatch: true },
      { header: 'x-missing', presentMatch: false },
      { header: 'x-count', rangeMatch: { start: 40, end: 43 } },
    ];
    const no: HeaderMatch[] = [
      { header: 'x-tenant', exactMatch: 'EU-west' },
      { header: 'x-tenant', regexMatch: 'eu' },
      { header: 'x-beta', presentMatch: false },
      { header: 'x-missing', presentMatch: true },
      { header: 'x-count', rangeMatch: { start: 0, end: 42 } },
      { header: 'x-tenant', rangeMatch: { start: 0, end: 100 } },
    ];
    for (const m of yes) expect(headerMatches(m, headers), JSON.stringify(m)).toBe(true);
    for (const m of no) expect(headerMatches(m, headers), JSON.stringify(m)).toBe(false);
  });

  it('joins repeated values with commas', () => {
    expect(headerMatches({ header: 'x-r', exactMatch: 'a,b' }, { 'x-r': ['a', 'b'] })).toBe(true);
  });

  it('inverts a matcher on a present header; an absent header only satisfies presence checks', () => {
    expect(headerMatches({ header: 'x-tenant', exactMatch: 'us', invertMatch: true }, headers)).toBe(true);
    expect(headerMatches({ header: 'x-tenant', exactMatch: 'eu-west', invertMatch: true }, headers)).toBe(
      false,
    );
    expect(headerMatches({ header: 'x-missing', exactMatch: 'us', invertMatch: true }, headers)).toBe(false);
    expect(headerMatches({ header: 'x-missing', presentMatch: true, invertMatch: true }, headers)).toBe(true);
    expect(headerMatches({ header: 'x-beta', presentMatch: true, invertMatch: true }, headers)).toBe(false);
  });

  const matcher: fc.Arbitrary<HeaderMatch> = fc
    .record({
      header: fc.constantFrom('x-a', 'x-b'),
      kind: fc.constantFrom('exact', 'prefix', 'suffix', 'regex', 'present'),
      value: fc.constantFrom('', 'v', 'va', 'x'),
      invert: fc.boolean(),
    })
    .map(({ header, kind, value, invert }) => {
      const m: HeaderMatch = { header, invertMatch: invert };
      if (kind === 'exact') m.exactMatch = value;
      if (kind === 'prefix') m.prefixMatch = value;
      if (kind === 'suffix') m.suffixMatch = value;
      if (kind === 'regex') m.regexMatch = `${value}.*`;
      if (kind === 'present') m.presentMatch = true;
      return m;
    });
  const headerSets = fc.record(
    { 'x-a': fc.constantFrom('v', 'va', 'x', ''), 'x-b': fc.constantFrom('v', 'bv') },
    { requiredKeys: [] },
  );

  it('property: inverting flips the result whenever the header is present', () => {
    fc.assert(
      fc.property(matcher, headerSets, (m, hs) => {
        fc.pre(hs[m.header as 'x-a' | 'x-b'] !== undefined);
        expect(headerMatches({ ...m, invertMatch: true }, hs)).toBe(
          !headerMatches({ ...m, invertMatch: false }, hs),
        );
      }),
    );
  });

  it('property: header matchers inside one match are ANDed, matches of a rule ORed', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(matcher, { maxLength: 3 }), { minLength: 1, maxLength: 3 }),
        headerSets,
        (groups, hs) => {
          const req = request('/', hs);
          const matches: RouteMatch[] = groups.map((g) => ({ prefixMatch: '/', headers: g }));
          const expected = groups.some((g) => g.every((m) => headerMatches(m, hs)));
          expect(selectRule(route('r', ['h'], [{ matches }]), req) !== null).toBe(expected);
        },
      ),
    );
  });
});

describe('query parameters', () => {
  it('matches decoded first values: exact, regex, present; all must hold', () => {
    const q = 'q=red%20shoes&page=2&page=3&flag';
    expect(
      routeMatches(
        { queryParameters: [{ queryParameter: 'q', exactMatch: 'red shoes' }] },
        request('/', {}, q),
      ),
    ).toBe(true);
    expect(
      routeMatches({ queryParameters: [{ queryParameter: 'page', exactMatch: '3' }] }, request('/', {}, q)),
    ).toBe(false);
    expect(
      routeMatches(
        { queryParameters: [{ queryParameter: 'page', regexMatch: '[0-9]' }] },
        request('/', {}, q),
      ),
    ).toBe(true);
    expect(
      routeMatches(
        { queryParameters: [{ queryParameter: 'flag', presentMatch: true }] },
        request('/', {}, q),
      ),
    ).toBe(true);
    expect(
      routeMatches(
        {
          queryParameters: [
            { queryParameter: 'flag', presentMatch: true },
            { queryParameter: 'absent', presentMatch: true },
          ],
        },
        request('/', {}, q),
      ),
    ).toBe(false);
  });

  it('ANDs the path, header and query conditions of one match', () => {
    const m: RouteMatch = {
      prefixMatch: '/search',
      headers: [{ header: 'x-beta', exactMatch: 'true' }],
      queryParameters: [{ queryParameter: 'q', presentMatch: true }],
    };
    expect(routeMatches(m, request('/search', { 'x-beta': 'true' }, 'q=1'))).toBe(true);
    expect(routeMatches(m, request('/search', {}, 'q=1'))).toBe(false);
    expect(routeMatches(m, request('/search', { 'x-beta': 'true' }))).toBe(false);
    expect(routeMatches(m, request('/find', { 'x-beta': 'true' }, 'q=1'))).toBe(false);
  });
});
