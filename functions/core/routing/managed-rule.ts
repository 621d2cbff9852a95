/**
 * The rule a rollout shifts, found on every read by what it routes: the one rule whose
 * destinations include the stable or the canary backend. The index and shape remembered from
 * earlier reads only break a tie between several such rules — a person inserting a rule before it
 * moves it, and an index alone would then point at the wrong rule.
 */
import type { Weights } from '../weights.ts';
import { type RouteRule, type RouteSnapshot, routesTo, sameBackend, sharesOf } from './snapshot.ts';

export interface ManagedRule {
  readonly stable: string;
  readonly canary: string;
  /** Where the rule was last seen (the request's `rule` before the first read). */
  readonly hint: number | null;
  /** The rule's shape when last seen, to tell it from a look-alike. */
  readonly shape: string | null;
}

export type Located =
  | { readonly kind: 'found'; readonly index: number }
  | { readonly kind: 'gone' }
  | { readonly kind: 'ambiguous'; readonly candidates: readonly number[] };

function isCandidate(rule: RouteRule, target: ManagedRule): boolean {
  return rule.destinations.some(
    (d) => sameBackend(d.backend, target.stable) || sameBackend(d.backend, target.canary),
  );
}

export function locate(route: RouteSnapshot, target: ManagedRule): Located {
  const candidates = route.rules.flatMap((rule, i) => (isCandidate(rule, target) ? [i] : []));
  if (candidates.length === 0) return { kind: 'gone' };
  if (candidates.length === 1) return { kind: 'found', index: candidates[0] as number };
  // Several rules route to stable or canary: the one that still looks like the managed rule; the
  // remembered index only among look-alikes (or, before the first read, the request's `rule`).
  const alike =
    target.shape === null ? candidates : candidates.filter((i) => route.rules[i]?.shape === target.shape);
  const chosen = alike.length > 1 ? alike.filter((i) => i === target.hint) : alike;
  const [only] = chosen;
  if (chosen.length === 1 && only !== undefined) return { kind: 'found', index: only };
  return { kind: 'ambiguous', candidates };
}

/** What a rollout reads from a route: its rule, that rule's split, and where else the canary is. */
export type Reading =
  | { readonly kind: 'gone' }
  | { readonly kind: 'ambiguous'; readonly candidates: readonly number[] }
  | {
      readonly kind: 'found';
      readonly index: number;
      readonly shape: string;
      /** Stable/canary split of the rule in whole percent; null when it sends neither traffic. */
      readonly weights: Weights | null;
      /** Other backends the rule routes to (a person's additions). */
      readonly others: readonly string[];
      /** Other rules that send the canary traffic. */
      readonly canaryElsewhere: readonly number[];
    };

/**
 * The stable/canary split of a rule in whole percent of their combined share. A non-zero share
 * never rounds to 0 % and a share below 100 % never rounds to 100 %.
 */
export function splitOf(rule: RouteRule, target: ManagedRule): Weights | null {
  const shares = sharesOf(rule);
  let stable = 0;
  let canary = 0;
  rule.destinations.forEach((d, i) => {
    if (sameBackend(d.backend, target.stable)) stable += shares[i] ?? 0;
    else if (sameBackend(d.backend, target.canary)) canary += shares[i] ?? 0;
  });
  if (stable + canary === 0) return null;
  const exact = (100 * canary) / (stable + canary);
  const canaryPercent = Math.min(stable > 0 ? 99 : 100, Math.max(canary > 0 ? 1 : 0, Math.round(exact)));
  return { stable: 100 - canaryPercent, canary: canaryPercent };
}

export function read(route: RouteSnapshot, target: ManagedRule): Reading {
  const located = locate(route, target);
  if (located.kind !== 'found') return located;
  const rule = route.rules[located.index] as RouteRule;
  const others = rule.destinations
    .filter((d) => !sameBackend(d.backend, target.stable) && !sameBackend(d.backend, target.canary))
    .map((d) => d.name);
  const canaryElsewhere = route.rules.flatMap((r, i) =>
    i !== located.index && routesTo(r, target.canary) ? [i] : [],
  );
  return {
    kind: 'found',
    index: located.index,
    shape: rule.shape,
    weights: splitOf(rule, target),
    others: [...new Set(others)],
    canaryElsewhere,
  };
}
