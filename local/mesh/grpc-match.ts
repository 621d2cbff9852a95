/**
 * Which GrpcRoute, rule and destination list a gRPC call selects (pure; no I/O), following the
 * GrpcRoute API and the Envoy routes it becomes:
 *
 * - Route: the `:authority` against each route's `hostnames`, with the HTTPRoute rules of
 *   match.ts (exact beats the longest wildcard, then the earlier route; port dropped).
 * - Rule: the first rule in order with a match that holds; a rule without matches matches
 *   every call; `matches[]` are OR'ed; inside one match the method matcher and every header
 *   matcher must hold.
 * - Method (from `:path` = `/package.Service/Method`): `type` EXACT (default) compares
 *   `grpcService` and `grpcMethod` with the call's; REGULAR_EXPRESSION matches each as an RE2
 *   expression over the whole name. An unset service or method matches any. `caseSensitive`
 *   (default true) false compares (or matches) ignoring case. A path that is not
 *   `/Service/Method` matches no method matcher.
 * - Headers (`key` case-insensitive, repeated values joined with ","): EXACT (default) or
 *   REGULAR_EXPRESSION over the whole value; an absent header fails.
 */
import type { GrpcRoute } from '../network-services/route-feed.ts';
import { fullMatchRegex, hostnameScore, normalizeHost, type RequestView } from './match.ts';

export type GrpcRule = NonNullable<GrpcRoute['rules']>[number];
export type GrpcMatch = NonNullable<GrpcRule['matches']>[number];
export type GrpcMethodMatch = NonNullable<GrpcMatch['method']>;
export type GrpcHeaderMatch = NonNullable<GrpcMatch['headers']>[number];
export type GrpcAction = NonNullable<GrpcRule['action']>;

export interface GrpcCallView {
  readonly authority: string;
  /** `:path` as received: `/package.Service/Method`. */
  readonly path: string;
  readonly headers: RequestView['headers'];
}

export interface GrpcMethodName {
  readonly service: string;
  readonly method: string;
}

export type GrpcSelection =
  | { readonly kind: 'rule'; readonly route: GrpcRoute; readonly ruleIndex: number; readonly rule: GrpcRule }
  | { readonly kind: 'noRoute'; readonly host: string }
  | { readonly kind: 'noRule'; readonly route: GrpcRoute };

/** Service and method of a gRPC `:path`; null when it is not `/Service/Method`. */
export function grpcMethodOf(path: string): GrpcMethodName | null {
  const m = /^\/([^/]+)\/([^/]+)$/.exec(path);
  if (m === null) return null;
  return { service: m[1] ?? '', method: m[2] ?? '' };
}

function nameMatches(
  expected: string | null | undefined,
  actual: string,
  regex: boolean,
  caseSensitive: boolean,
): boolean {
  if (typeof expected !== 'string' || expected === '') return true;
  if (regex) {
    const re = fullMatchRegex(caseSensitive ? expected : `(?i)${expected}`);
    return re?.test(actual) === true;
  }
  return caseSensitive ? expected === actual : expected.toLowerCase() === actual.toLowerCase();
}

export function methodMatches(matcher: GrpcMethodMatch, name: GrpcMethodName | null): boolean {
  if (name === null) return false;
  const regex = matcher.type === 'REGULAR_EXPRESSION';
  const caseSensitive = matcher.caseSensitive !== false;
  return (
    nameMatches(matcher.grpcService, name.service, regex, caseSensitive) &&
    nameMatches(matcher.grpcMethod, name.method, regex, caseSensitive)
  );
}

export function grpcHeaderMatches(matcher: GrpcHeaderMatch, headers: RequestView['headers']): boolean {
  if (typeof matcher.key !== 'string') return false;
  const raw = headers[matcher.key.toLowerCase()];
  if (raw === undefined) return false;
  const value = typeof raw === 'string' ? raw : raw.join(',');
  const expected = matcher.value ?? '';
  if (matcher.type === 'REGULAR_EXPRESSION') return fullMatchRegex(expected)?.test(value) === true;
  return value === expected;
}

function matchHolds(match: GrpcMatch, name: GrpcMethodName | null, call: GrpcCallView): boolean {
  if (match.method && !methodMatches(match.method, name)) return false;
  return (match.headers ?? []).every((h) => grpcHeaderMatches(h, call.headers));
}

/** The route serving `authority`: the most specific hostname wins, then the earlier route. */
export function selectGrpcRoute(routes: readonly GrpcRoute[], authority: string): GrpcRoute | null {
  const host = normalizeHost(authority);
  let best: GrpcRoute | null = null;
  let bestScore = -1;
  for (const route of routes) {
    for (const pattern of route.hostnames ?? []) {
      const score = hostnameScore(pattern, host);
      if (score > bestScore) {
        best = route;
        bestScore = score;
      }
    }
  }
  return best;
}

/** Route, then rule, for one call. */
export function selectGrpc(routes: readonly GrpcRoute[], call: GrpcCallView): GrpcSelection {
  const route = selectGrpcRoute(routes, call.authority);
  if (route === null) return { kind: 'noRoute', host: normalizeHost(call.authority) };
  const name = grpcMethodOf(call.path);
  const rules = route.rules ?? [];
  for (let ruleIndex = 0; ruleIndex < rules.length; ruleIndex += 1) {
    const rule = rules[ruleIndex];
    if (rule === undefined) continue;
    const matches = rule.matches ?? [];
    if (matches.length === 0 || matches.some((m) => matchHolds(m, name, call))) {
      return { kind: 'rule', route, ruleIndex, rule };
    }
  }
  return { kind: 'noRule', route };
}
