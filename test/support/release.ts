/**
 * Helpers for end-to-end tests of releases across several routes: the split a route shows for
 * a stable/canary pair (any of the four route kinds: their rules all carry
 * `action.destinations`), a measured split checked against a step's weight with a binomial
 * bound, and a log of the controller's PATCHes and of the weights each route took, per route.
 */
import { sameBackend } from '../../functions/core/routing/snapshot.ts';
import type { LocalNetworkServices } from '../../local/network-services/local-network-services.ts';

/** What every route kind has in common: rules whose action sends traffic to weighted destinations. */
export interface AnyRoute {
  readonly name?: string | null;
  readonly rules?: readonly {
    readonly action?: {
      readonly destinations?: readonly {
        readonly serviceName?: string | null;
        readonly weight?: number | null;
      }[];
    } | null;
  }[];
}

export interface Split {
  readonly stable: number;
  readonly canary: number;
}

/**
 * The percentages the managed rule (the first rule routing to stable or canary) gives stable
 * and canary, as the data plane applies them (an unweighted destination list splits evenly);
 * null when no rule routes to either.
 */
export function splitOf(route: AnyRoute, stable: string, canary: string): Split | null {
  const rule = (route.rules ?? []).find((r) =>
    (r.action?.destinations ?? []).some(
      (d) => sameBackend(d.serviceName ?? '', stable) || sameBackend(d.serviceName ?? '', canary),
    ),
  );
  const destinations = rule?.action?.destinations ?? [];
  if (destinations.length === 0) return null;
  const weights = destinations.map((d) => d.weight ?? 1);
  const total = weights.reduce((a, b) => a + b, 0);
  const share = (backend: string) =>
    Math.round(
      (100 *
        destinations.reduce(
          (sum, d, i) => sum + (sameBackend(d.serviceName ?? '', backend) ? (weights[i] ?? 0) : 0),
          0,
        )) /
        total,
    );
  return { stable: share(stable), canary: share(canary) };
}

/** z for a two-sided 99.9% interval. */
export const Z_999 = 3.2905;

export interface BinomialCheck {
  readonly ok: boolean;
  readonly observed: number;
  readonly expected: number;
  /** The Wilson score interval of the observed share (the shares the counts are consistent with). */
  readonly low: number;
  readonly high: number;
  readonly n: number;
}

/**
 * Whether `hits` of `n` trials is consistent with probability `p` at the given z: `p` lies in the
 * Wilson score interval of hits/n. p = 0 or 1 must be met exactly (a weight of 0 sends nothing).
 */
export function binomialCheck(hits: number, n: number, p: number, z = Z_999): BinomialCheck {
  const observed = n === 0 ? Number.NaN : hits / n;
  if (n === 0) return { ok: false, observed, expected: p, low: Number.NaN, high: Number.NaN, n };
  const z2 = z * z;
  const centre = (observed + z2 / (2 * n)) / (1 + z2 / n);
  const half = (z / (1 + z2 / n)) * Math.sqrt((observed * (1 - observed)) / n + z2 / (4 * n * n));
  const low = Math.max(0, centre - half);
  const high = Math.min(1, centre + half);
  const ok = p === 0 ? hits === 0 : p === 1 ? hits === n : low <= p && p <= high;
  return { ok, observed, expected: p, low, high, n };
}

export interface RouteWrites {
  /** PATCH requests that reached the stand-in, per route name (refused ones included). */
  patches(route: string): number;
  /** Each split a route took, in order, one entry per completed write that changed it. */
  splits(route: string): readonly Split[];
  stop(): void;
}

/** Follows the stand-in's writes for the named routes, from now on. */
export function followWrites(
  routes: LocalNetworkServices,
  watched: readonly { readonly route: string; readonly stable: string; readonly canary: string }[],
): RouteWrites {
  const patches = new Map<string, number>();
  const splits = new Map<string, Split[]>();
  const record = () => {
    for (const w of watched) {
      const route = routes.route(w.route);
      const split = route === null ? null : splitOf(route, w.stable, w.canary);
      const seen = splits.get(w.route) ?? [];
      const last = seen.at(-1);
      if (split !== null && (last?.stable !== split.stable || last.canary !== split.canary)) {
        seen.push(split);
      }
      splits.set(w.route, seen);
    }
  };
  record();
  const unhook = routes.beforeRequest('patch', (resource) => {
    patches.set(resource, (patches.get(resource) ?? 0) + 1);
  });
  const unsubscribe = routes.subscribe(record);
  return {
    patches: (route) => patches.get(route) ?? 0,
    splits: (route) => splits.get(route) ?? [],
    stop: () => {
      unhook();
      unsubscribe();
    },
  };
}

/** Waits until `check` holds (polling), or throws with `describe()`'s account of the last state. */
export async function until(
  check: () => boolean | Promise<boolean>,
  describe: () => string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A route of any kind with one rule's destinations (and the update time) removed, for "nothing else changed". */
export function withoutDestinationsOf(route: AnyRoute | null, ruleIndex: number): unknown {
  const copy = structuredClone(route ?? {}) as AnyRoute & { updateTime?: unknown };
  const action = copy.rules?.[ruleIndex]?.action as { destinations?: unknown } | null | undefined;
  if (action) delete action.destinations;
  delete copy.updateTime;
  return copy;
}
