/**
 * A route as the core sees it: its rules, each rule's destinations (backend and relative weight),
 * and everything else about the rules and the route in a canonical form that tells whether a
 * person changed it. Adapters build snapshots from the API's resources; the core reasons only on
 * snapshots, so the route policy does not depend on one route kind's JSON.
 *
 * Weights are relative (share = weight / sum of the rule's weights). When no destination has a
 * weight the rule splits equally; when some do, one without a weight gets nothing (proto3 reads 0
 * as unset).
 */

export interface RouteDestination {
  /** The backend as the route spells it (full compute URL or relative name). */
  readonly name: string;
  /** The backend as a comparable key (see backendKey). */
  readonly backend: string;
  readonly weight: number | null;
  /** Everything else on the destination (header modifiers, …), canonical JSON. */
  readonly extras: string;
}

export interface RouteRule {
  readonly destinations: readonly RouteDestination[];
  /** The rule apart from its destinations (matches, filters, timeouts, …), canonical JSON. */
  readonly shape: string;
}

/**
 * What the route is attached to, full resource names as the route spells them. A Mesh's clients
 * (sidecars, proxyless gRPC, Cloud Run's managed mesh) balance its traffic themselves; a
 * Gateway's proxies do for a Gateway.
 */
export interface RouteAttachments {
  readonly meshes: readonly string[];
  readonly gateways: readonly string[];
}

export interface RouteSnapshot {
  readonly updateTime: string;
  readonly rules: readonly RouteRule[];
  /** The route apart from its rules and output-only fields (hostnames, meshes, labels, …), canonical JSON. */
  readonly shape: string;
  /** The Meshes and Gateways the route is attached to (also part of `shape`). */
  readonly attachments: RouteAttachments;
}

/**
 * Another writer's operation that ended while a write of the controller's was in flight — after
 * the read the write was built from, before the write took effect. HTTPRoute writes replace all
 * rules, so such a change to the rules was overwritten.
 */
export interface ConcurrentWrite {
  readonly operation: string;
  /** When it ended (RFC 3339). */
  readonly endedAt: string;
  /** The route as that write left it; null when the API did not say. */
  readonly route: RouteSnapshot | null;
}

/** One backend service, however the route spells it (full compute URL or relative name). */
export function backendKey(name: string): string {
  return name
    .replace(/^https?:\/\/[^/]+\/compute\/(v1|beta|alpha)\//, '')
    .replace(/\/locations\/global\//, '/global/');
}

export function sameBackend(a: string, b: string): boolean {
  return backendKey(a) === backendKey(b);
}

/** Each destination's share of the rule's traffic, in the rule's own units. */
export function sharesOf(rule: RouteRule): number[] {
  const weighted = rule.destinations.some((d) => (d.weight ?? 0) > 0);
  return rule.destinations.map((d) => (weighted ? Math.max(0, d.weight ?? 0) : 1));
}

/** Whether the rule sends any traffic to the backend. */
export function routesTo(rule: RouteRule, backend: string): boolean {
  const shares = sharesOf(rule);
  return rule.destinations.some((d, i) => sameBackend(d.backend, backend) && (shares[i] ?? 0) > 0);
}

/** JSON with object keys sorted, so two equal values always print the same. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}
