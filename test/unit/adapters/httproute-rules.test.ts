/** Rule resolution, weight derivation and destination rewriting for HTTPRoutes (pure). */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type Destination,
  findRule,
  type HttpRoute,
  type RouteRule,
  rewriteRules,
  sameBackend,
  splitOf,
  viewOf,
} from '../../../functions/adapters/httproute-rules.ts';
import { RouteError, type RouteTarget } from '../../../functions/ports/traffic-router.ts';

const P = 'projects/p/locations/global';
const STABLE = `${P}/backendServices/stable`;
const CANARY = `${P}/backendServices/canary`;
const OTHER = `${P}/backendServices/other`;
const target: RouteTarget = { route: `${P}/httpRoutes/r`, ruleIndex: null, stable: STABLE, canary: CANARY };

function rule(...destinations: Destination[]): RouteRule {
  return { matches: [{ prefixMatch: '/' }], action: { destinations, timeout: '10s' } };
}

function route(...rules: RouteRule[]): HttpRoute {
  return {
    name: target.route,
    hostnames: ['h.internal'],
    updateTime: '2026-01-01T00:00:00.000000001Z',
    rules,
  };
}

function thrown(fn: () => unknown): RouteError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RouteError) return error;
    throw error;
  }
  throw new Error('expected a RouteError');
}

describe('splitOf', () => {
  const split = (...destinations: Destination[]) => splitOf(rule(...destinations), target, 'rule 0');

  it.each([
    ['a single destination without weight', [{ serviceName: STABLE }], 100, 0],
    ['a single weighted destination', [{ serviceName: CANARY, weight: 7 }], 0, 100],
    ['all destinations unweighted (equal split)', [{ serviceName: STABLE }, { serviceName: CANARY }], 50, 50],
    [
      'relative weights',
      [
        { serviceName: STABLE, weight: 3 },
        { serviceName: CANARY, weight: 1 },
      ],
      75,
      25,
    ],
    [
      'weights summing to 100',
      [
        { serviceName: STABLE, weight: 90 },
        { serviceName: CANARY, weight: 10 },
      ],
      90,
      10,
    ],
    [
      'a destination without weight next to weighted ones (0 read back as unset)',
      [{ serviceName: STABLE, weight: 5 }, { serviceName: CANARY }],
      100,
      0,
    ],
    [
      'thirds',
      [
        { serviceName: STABLE, weight: 1 },
        { serviceName: CANARY, weight: 2 },
      ],
      33,
      67,
    ],
  ] as const)('%s', (_what, destinations, stable, canary) => {
    expect(split(...destinations).weights).toEqual({ stable, canary });
  });

  it('never rounds a non-zero share to 0% or a partial share to 100%', () => {
    expect(split({ serviceName: STABLE, weight: 999 }, { serviceName: CANARY, weight: 1 }).weights).toEqual({
      stable: 99,
      canary: 1,
    });
    expect(split({ serviceName: STABLE, weight: 1 }, { serviceName: CANARY, weight: 999 }).weights).toEqual({
      stable: 1,
      canary: 99,
    });
  });

  it('splits stable/canary between themselves and lists other destinations once', () => {
    const s = split(
      { serviceName: STABLE, weight: 40 },
      { serviceName: OTHER, weight: 20 },
      { serviceName: CANARY, weight: 40 },
      { serviceName: OTHER, weight: 1 },
    );
    expect(s).toEqual({ weights: { stable: 50, canary: 50 }, otherDestinations: [OTHER] });
  });

  it('matches backends however the route spells them', () => {
    expect(
      sameBackend(`https://www.googleapis.com/compute/v1/projects/p/global/backendServices/stable`, STABLE),
    ).toBe(true);
    expect(split({ serviceName: 'projects/p/global/backendServices/canary' }).weights).toEqual({
      stable: 0,
      canary: 100,
    });
  });

  it('refuses a rule that routes to neither backend', () => {
    const error = thrown(() => split({ serviceName: OTHER }));
    expect(error.kind).toBe('invalidArgument');
    expect(error.message).toContain('sends no traffic to');
  });
});

describe('findRule', () => {
  const r = route(rule({ serviceName: OTHER }), rule({ serviceName: STABLE }), {
    action: { redirect: { hostRedirect: 'x' } },
  });

  it('takes the one rule that routes to stable, or the explicit index', () => {
    expect(findRule(r, target)).toBe(1);
    expect(findRule(r, { ...target, ruleIndex: 0 })).toBe(0);
    expect(viewOf(r, target)).toEqual({
      updateTime: r.updateTime,
      ruleIndex: 1,
      weights: { stable: 100, canary: 0 },
      otherDestinations: [],
    });
  });

  it('refuses an index out of range, no matching rule, or several', () => {
    expect(thrown(() => findRule(r, { ...target, ruleIndex: 3 })).message).toContain(
      'rule index 3 does not exist',
    );
    expect(thrown(() => findRule(r, { ...target, stable: `${P}/backendServices/x` })).message).toContain(
      'no rule',
    );
    const twice = route(
      rule({ serviceName: STABLE }),
      rule({ serviceName: STABLE, weight: 1 }, { serviceName: CANARY, weight: 1 }),
    );
    const several = thrown(() => findRule(twice, target));
    expect(several.kind).toBe('invalidArgument');
    expect(several.message).toContain('rules [0, 1]');
  });
});

describe('rewriteRules', () => {
  const at = (ruleIndex: number) => ({ ...target, ruleIndex });

  it('keeps each kept destination object and everything else, appending a missing backend', () => {
    const original = route(
      rule({ serviceName: OTHER }),
      rule({ serviceName: STABLE, requestHeaderModifier: { set: { 'x-b': 's' } } }),
    );
    const copy = structuredClone(original);
    const rules = rewriteRules(original, at(1), { stable: 80, canary: 20 });
    expect(rules[0]).toEqual(original.rules?.[0]);
    expect(rules[1]).toEqual({
      matches: [{ prefixMatch: '/' }],
      action: {
        timeout: '10s',
        destinations: [
          { serviceName: STABLE, requestHeaderModifier: { set: { 'x-b': 's' } }, weight: 80 },
          { serviceName: CANARY, weight: 20 },
        ],
      },
    });
    expect(original).toEqual(copy);
  });

  it('drops a destination at 0% and writes a lone destination without weight', () => {
    const original = route(
      rule(
        { serviceName: STABLE, weight: 90, responseHeaderModifier: { remove: ['a'] } },
        { serviceName: CANARY, weight: 10 },
      ),
    );
    expect(rewriteRules(original, at(0), { stable: 100, canary: 0 })[0]?.action?.destinations).toEqual([
      { serviceName: STABLE, responseHeaderModifier: { remove: ['a'] } },
    ]);
    expect(rewriteRules(original, at(0), { stable: 0, canary: 100 })[0]?.action?.destinations).toEqual([
      { serviceName: CANARY },
    ]);
  });

  it('keeps the first of duplicate destinations of one backend', () => {
    const original = route(
      rule(
        { serviceName: STABLE, weight: 1 },
        { serviceName: STABLE, weight: 1 },
        { serviceName: CANARY, weight: 1 },
      ),
    );
    expect(rewriteRules(original, at(0), { stable: 60, canary: 40 })[0]?.action?.destinations).toEqual([
      { serviceName: STABLE, weight: 60 },
      { serviceName: CANARY, weight: 40 },
    ]);
  });

  it('refuses rules with other destinations, bad weights, and identical backends', () => {
    const withOther = route(rule({ serviceName: STABLE, weight: 1 }, { serviceName: OTHER, weight: 1 }));
    expect(thrown(() => rewriteRules(withOther, at(0), { stable: 50, canary: 50 })).message).toContain(OTHER);
    const plain = route(rule({ serviceName: STABLE }));
    expect(thrown(() => rewriteRules(plain, at(0), { stable: 50, canary: 40 })).kind).toBe('invalidArgument');
    expect(thrown(() => rewriteRules(plain, at(0), { stable: 50.5, canary: 49.5 })).kind).toBe(
      'invalidArgument',
    );
    expect(
      thrown(() => rewriteRules(plain, { ...at(0), canary: STABLE }, { stable: 50, canary: 50 })).kind,
    ).toBe('invalidArgument');
  });

  it('reads back exactly the weights it wrote, leaving every other rule untouched (property)', () => {
    const destination = fc.record(
      {
        serviceName: fc.constantFrom(STABLE, CANARY),
        weight: fc.integer({ min: 1, max: 1000 }),
        requestHeaderModifier: fc.record({
          set: fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.string()),
        }),
      },
      { requiredKeys: ['serviceName'] },
    );
    const targetRule = fc
      .array(destination, { minLength: 1, maxLength: 4 })
      .filter((ds) => ds.some((d) => d.serviceName === STABLE))
      .map((ds) => {
        const weighted = ds.some((d) => d.weight !== undefined);
        return rule(...ds.map((d) => (weighted ? { ...d, weight: d.weight ?? 1 } : d)));
      });
    const otherRule = fc.record({
      matches: fc.array(fc.record({ prefixMatch: fc.constantFrom('/a', '/b'), ignoreCase: fc.boolean() }), {
        maxLength: 2,
      }),
      action: fc.record({
        destinations: fc.constant<Destination[]>([{ serviceName: OTHER }]),
        timeout: fc.constantFrom('1s', '2s'),
      }),
    });
    fc.assert(
      fc.property(
        fc.array(otherRule, { maxLength: 3 }),
        targetRule,
        fc.array(otherRule, { maxLength: 3 }),
        fc.integer({ min: 0, max: 100 }),
        (before, mine, after, canary) => {
          const original = route(...before, mine, ...after);
          const index = before.length;
          const weights = { stable: 100 - canary, canary };
          const rules = rewriteRules(original, at(index), weights);
          const written = { ...original, rules };
          expect(viewOf(written, at(index)).weights).toEqual(weights);
          expect(rules.slice(0, index)).toEqual(before);
          expect(rules.slice(index + 1)).toEqual(after);
          const { destinations: _d, ...rest } = rules[index]?.action ?? {};
          const { destinations: _o, ...originalRest } = mine.action ?? {};
          expect(rest).toEqual(originalRest);
          for (const d of rules[index]?.action?.destinations ?? []) expect(d.weight ?? 1).toBeGreaterThan(0);
        },
      ),
    );
  });
});
