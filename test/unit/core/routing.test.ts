/**
 * The route as the core sees it (through the HTTPRoute adapter's mapping): the managed rule found
 * by what it routes, its split, and the writes planned on one read — shifts that never remove a
 * person's destination, rollbacks that take the canary out and keep everything else.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type HttpDestination as Destination,
  type HttpRoute,
  type HttpRouteRule as RouteRule,
  rulesWith,
  snapshotOf,
} from '../../../functions/adapters/route-rules.ts';
import { type ManagedRule, read, splitOf } from '../../../functions/core/routing/managed-rule.ts';
import { sameBackend } from '../../../functions/core/routing/snapshot.ts';
import { planWrite, type WriteRequest } from '../../../functions/core/routing/write-plan.ts';
import type { Weights } from '../../../functions/core/weights.ts';

const P = 'projects/p/locations/global';
const STABLE = `${P}/backendServices/stable`;
const CANARY = `${P}/backendServices/canary`;
const OTHER = `${P}/backendServices/other`;
const target: ManagedRule = { stable: STABLE, canary: CANARY, hint: null, shape: null };

function rule(...destinations: Destination[]): RouteRule {
  return { matches: [{ prefixMatch: '/' }], action: { destinations, timeout: '10s' } };
}

function route(...rules: RouteRule[]): HttpRoute {
  return { name: `${P}/httpRoutes/r`, hostnames: ['h.internal'], updateTime: '2026-01-01T00:00:00Z', rules };
}

/** The route after the write the core plans on it (unchanged when it plans none). */
function written(original: HttpRoute, request: Partial<WriteRequest> & { weights: Weights }): HttpRoute {
  const plan = planWrite(snapshotOf(original), { target, mode: 'shift', precondition: null, ...request });
  return plan.kind === 'skip'
    ? original
    : { ...original, rules: rulesWith(original, plan.ruleIndex, plan.destinations) };
}

function splitOfFirst(...destinations: Destination[]) {
  return splitOf(
    snapshotOf(route(rule(...destinations))).rules[0] ?? { destinations: [], shape: '' },
    target,
  );
}

describe('the split of a rule', () => {
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
    expect(splitOfFirst(...destinations)).toEqual({ stable, canary });
  });

  it('never rounds a non-zero share to 0% or a partial share to 100%', () => {
    expect(splitOfFirst({ serviceName: STABLE, weight: 999 }, { serviceName: CANARY, weight: 1 })).toEqual({
      stable: 99,
      canary: 1,
    });
    expect(splitOfFirst({ serviceName: STABLE, weight: 1 }, { serviceName: CANARY, weight: 999 })).toEqual({
      stable: 1,
      canary: 99,
    });
  });

  it('splits stable/canary between themselves and lists other destinations once', () => {
    const reading = read(
      snapshotOf(
        route(
          rule(
            { serviceName: STABLE, weight: 40 },
            { serviceName: OTHER, weight: 20 },
            { serviceName: CANARY, weight: 40 },
            { serviceName: OTHER, weight: 1 },
          ),
        ),
      ),
      target,
    );
    expect(reading).toMatchObject({ kind: 'found', weights: { stable: 50, canary: 50 }, others: [OTHER] });
  });

  it('matches backends however the route spells them', () => {
    expect(
      sameBackend(`https://www.googleapis.com/compute/v1/projects/p/global/backendServices/stable`, STABLE),
    ).toBe(true);
    expect(splitOfFirst({ serviceName: 'projects/p/global/backendServices/canary' })).toEqual({
      stable: 0,
      canary: 100,
    });
  });
});

describe('finding the managed rule by what it routes', () => {
  const managed = rule({ serviceName: STABLE, weight: 70 }, { serviceName: CANARY, weight: 30 });

  it('takes the one rule that routes to stable or canary, wherever it moved', () => {
    const r = route(rule({ serviceName: OTHER }), managed, { action: { redirect: { hostRedirect: 'x' } } });
    expect(read(snapshotOf(r), target)).toMatchObject({
      kind: 'found',
      index: 1,
      weights: { stable: 70, canary: 30 },
    });
    // A person inserts two rules before it: still found, though the remembered index is stale.
    const moved = route(
      rule({ serviceName: OTHER }),
      rule({ serviceName: OTHER }),
      rule({ serviceName: OTHER }),
      managed,
    );
    expect(read(snapshotOf(moved), { ...target, hint: 1 })).toMatchObject({ kind: 'found', index: 3 });
  });

  it('is gone when no rule routes to stable or canary', () => {
    expect(read(snapshotOf(route(rule({ serviceName: OTHER }))), target)).toEqual({ kind: 'gone' });
  });

  it('tells the managed rule from a look-alike by its shape; the index only breaks a tie of twins', () => {
    const shape = snapshotOf(route(managed)).rules[0]?.shape ?? null;
    const canaryRule: RouteRule = {
      matches: [{ headers: [{ header: 'x-beta', exactMatch: '1' }] }],
      action: { destinations: [{ serviceName: CANARY }] },
    };
    const r = snapshotOf(route(canaryRule, managed));
    expect(read(r, { ...target, shape, hint: 0 })).toMatchObject({
      kind: 'found',
      index: 1,
      canaryElsewhere: [0],
    });
    // Before the first read (no shape), the request's rule index decides; without it, nobody can.
    expect(read(r, { ...target, hint: 1 })).toMatchObject({ kind: 'found', index: 1 });
    expect(read(r, target)).toEqual({ kind: 'ambiguous', candidates: [0, 1] });
    const twins = snapshotOf(route(managed, managed));
    expect(read(twins, { ...target, shape, hint: 1 })).toMatchObject({ kind: 'found', index: 1 });
    // The managed rule was edited so that neither rule looks like it any more: a person must say.
    const edited = snapshotOf(route(canaryRule, { ...managed, matches: [{ prefixMatch: '/v2' }] }));
    expect(read(edited, { ...target, shape, hint: 1 })).toEqual({ kind: 'ambiguous', candidates: [0, 1] });
  });
});

describe('shift writes', () => {
  it('keep each kept destination’s fields and everything else, appending a missing backend', () => {
    const original = route(
      rule({ serviceName: OTHER }),
      rule({ serviceName: STABLE, requestHeaderModifier: { set: { 'x-b': 's' } } }),
    );
    const copy = structuredClone(original);
    const after = written(original, { weights: { stable: 80, canary: 20 } });
    expect(after.rules?.[0]).toEqual(original.rules?.[0]);
    expect(after.rules?.[1]).toEqual({
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

  it('drop a destination at 0% and write a lone destination without weight', () => {
    const original = route(
      rule(
        { serviceName: STABLE, weight: 90, responseHeaderModifier: { remove: ['a'] } },
        { serviceName: CANARY, weight: 10 },
      ),
    );
    expect(
      written(original, { weights: { stable: 100, canary: 0 } }).rules?.[0]?.action?.destinations,
    ).toEqual([{ serviceName: STABLE, responseHeaderModifier: { remove: ['a'] } }]);
    expect(
      written(original, { weights: { stable: 0, canary: 100 } }).rules?.[0]?.action?.destinations,
    ).toEqual([{ serviceName: CANARY }]);
  });

  it('keep the first of duplicate destinations of one backend', () => {
    const original = route(
      rule(
        { serviceName: STABLE, weight: 1 },
        { serviceName: STABLE, weight: 1 },
        { serviceName: CANARY, weight: 1 },
      ),
    );
    expect(
      written(original, { weights: { stable: 60, canary: 40 } }).rules?.[0]?.action?.destinations,
    ).toEqual([
      { serviceName: STABLE, weight: 60 },
      { serviceName: CANARY, weight: 40 },
    ]);
  });

  it('never remove a person’s destination, and hold back when the precondition no longer holds', () => {
    const snapshot = snapshotOf(
      route(rule({ serviceName: STABLE, weight: 1 }, { serviceName: OTHER, weight: 1 })),
    );
    const shift: WriteRequest = {
      target,
      weights: { stable: 50, canary: 50 },
      mode: 'shift',
      precondition: null,
    };
    expect(planWrite(snapshot, shift)).toMatchObject({
      kind: 'skip',
      reason: expect.stringContaining('other backends'),
    });
    const seventy = snapshotOf(
      route(rule({ serviceName: STABLE, weight: 7 }, { serviceName: CANARY, weight: 3 })),
    );
    expect(planWrite(seventy, { ...shift, precondition: { stable: 100, canary: 0 } })).toMatchObject({
      kind: 'skip',
    });
    expect(planWrite(seventy, { ...shift, precondition: { stable: 70, canary: 30 } })).toMatchObject({
      kind: 'write',
    });
    expect(planWrite(seventy, { ...shift, weights: { stable: 70, canary: 30 } })).toMatchObject({
      kind: 'skip',
    });
  });

  it('read back exactly the weights they wrote, leaving every other rule untouched (property)', () => {
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
          const result = written(original, { weights });
          expect(read(snapshotOf(result), target)).toMatchObject({ kind: 'found', index, weights });
          expect(result.rules?.slice(0, index)).toEqual(before);
          expect(result.rules?.slice(index + 1)).toEqual(after);
          const { destinations: _d, ...rest } = result.rules?.[index]?.action ?? {};
          const { destinations: _o, ...originalRest } = mine.action ?? {};
          expect(rest).toEqual(originalRest);
          for (const d of result.rules?.[index]?.action?.destinations ?? [])
            expect(d.weight ?? 1).toBeGreaterThan(0);
        },
      ),
    );
  });
});

describe('rollback writes', () => {
  const rollback = { weights: { stable: 100, canary: 0 }, mode: 'rollback' as const };

  it('take the canary out and give its share to stable, keeping a person’s destination and its share', () => {
    const original = route(
      rule(
        { serviceName: STABLE, weight: 60 },
        { serviceName: CANARY, weight: 30 },
        { serviceName: OTHER, weight: 10, requestHeaderModifier: { set: { a: 'b' } } },
      ),
    );
    expect(written(original, rollback).rules?.[0]?.action?.destinations).toEqual([
      { serviceName: STABLE, weight: 90 },
      { serviceName: OTHER, weight: 10, requestHeaderModifier: { set: { a: 'b' } } },
    ]);
  });

  it('write explicit shares for an unweighted rule, add stable when the rule lost it, and drop weights when alone', () => {
    const unweighted = route(rule({ serviceName: STABLE }, { serviceName: CANARY }, { serviceName: OTHER }));
    expect(written(unweighted, rollback).rules?.[0]?.action?.destinations).toEqual([
      { serviceName: STABLE, weight: 2 },
      { serviceName: OTHER, weight: 1 },
    ]);
    const canaryOnly = route(rule({ serviceName: CANARY, weight: 5 }, { serviceName: OTHER, weight: 5 }));
    expect(written(canaryOnly, rollback).rules?.[0]?.action?.destinations).toEqual([
      { serviceName: OTHER, weight: 5 },
      { serviceName: STABLE, weight: 5 },
    ]);
    const pair = route(rule({ serviceName: STABLE, weight: 70 }, { serviceName: CANARY, weight: 30 }));
    expect(written(pair, rollback).rules?.[0]?.action?.destinations).toEqual([{ serviceName: STABLE }]);
  });

  it('write nothing when the managed rule already sends the canary nothing', () => {
    const elsewhere = snapshotOf(route(rule({ serviceName: CANARY }), rule({ serviceName: STABLE })));
    const plan = planWrite(elsewhere, {
      target: { ...target, hint: 1, shape: elsewhere.rules[1]?.shape ?? null },
      precondition: null,
      ...rollback,
    });
    expect(plan).toMatchObject({ kind: 'skip', reason: 'the rule sends the canary nothing' });
  });
});
