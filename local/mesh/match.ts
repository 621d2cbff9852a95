/**
 * Which route, rule and match an HTTP request selects, following the HttpRoute API and the
 * Envoy behaviour it configures (pure; no I/O):
 *
 * - Route: the Host header (port and trailing dot dropped, case-insensitive) against each
 *   route's `hostnames`. An exact name beats a `*.suffix` wildcard, a longer wildcard beats a
 *   shorter one (`*.a.b` before `*.b`), and a bare `*` comes last. A wildcard needs at least
 *   one label in front: `*.example.com` matches `a.example.com` and `a.b.example.com`, not
 *   `example.com`. Ties go to the earlier route.
 * - Rule: the first rule in order whose `matches` match; a rule without matches matches all.
 *   `matches[]` are OR'ed; inside one match, the path matcher, every header matcher and every
 *   query-parameter matcher must hold.
 * - Path: `fullPathMatch` / `prefixMatch` honour `ignoreCase`; `regexMatch` must match the whole
 *   path (Envoy's safe_regex) and, as the API documents, ignores `ignoreCase` (write `(?i)`).
 *   A match without a path matcher matches every path. The path excludes the query string.
 * - Headers (names case-insensitive, repeated values joined with ","): exact, prefix, suffix,
 *   regex (whole value), present, range (start inclusive, end exclusive), each inverted by
 *   `invertMatch`. An absent header fails every matcher except `presentMatch: false` — and,
 *   inverted, every matcher except inverted `presentMatch: true` (Envoy's rule: inverting a
 *   value matcher does not make a missing header match).
 * - Query parameters (decoded; the first value counts): exact, regex (whole value), present.
 *
 * Regular expressions are RE2 in the API; they run here as JavaScript expressions after
 * translating the RE2-only spellings used in practice: leading flags `(?i)`, `(?s)`, `(?m)`,
 * named groups `(?P<n>…)`, `\A` and `\z`. An expression that does not compile never matches.
 */
import type { HeaderMatch, HttpRoute, QueryParameterMatch, RouteMatch, RouteRule } from './route-types.ts';

/** The parts of a request that routing looks at. */
export interface RequestView {
  /** The Host (or :authority) header as received. */
  readonly host: string;
  /** The path as received, without the query string. */
  readonly path: string;
  /** The raw query string without the leading `?` ('' when none). */
  readonly query: string;
  /** Request headers with lower-case names, as Node's IncomingMessage holds them. */
  readonly headers: Readonly<Record<string, string | readonly string[] | undefined>>;
}

export interface RuleSelection {
  readonly route: HttpRoute;
  readonly ruleIndex: number;
  readonly rule: RouteRule;
  /** The match that held; null for a rule without matches. */
  readonly match: RouteMatch | null;
}

export type Selection =
  | ({ readonly kind: 'rule' } & RuleSelection)
  | { readonly kind: 'noRoute'; readonly host: string }
  | { readonly kind: 'noRule'; readonly route: HttpRoute; readonly host: string };

/** The host name of a Host header: lower case, without port or trailing dot. */
export function normalizeHost(host: string): string {
  let h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    h = end === -1 ? h : h.slice(0, end + 1);
  } else {
    const colon = h.lastIndexOf(':');
    if (colon !== -1 && /^\d*$/.test(h.slice(colon + 1))) h = h.slice(0, colon);
  }
  return h.endsWith('.') ? h.slice(0, -1) : h;
}

/**
 * How specifically `pattern` matches `host` (already normalised): -1 no match, 0 for `*`,
 * the suffix length + 1 for a wildcard, and Infinity for an exact name.
 */
export function hostnameScore(pattern: string, host: string): number {
  const p = pattern.trim().toLowerCase().replace(/\.$/, '');
  if (p === '*') return 0;
  if (p.startsWith('*.')) {
    const suffix = p.slice(1); // ".example.com"
    return host.length > suffix.length && host.endsWith(suffix) ? suffix.length + 1 : -1;
  }
  return p === host ? Number.POSITIVE_INFINITY : -1;
}

export function hostnameMatches(pattern: string, host: string): boolean {
  return hostnameScore(pattern, normalizeHost(host)) >= 0;
}

/** The route serving `host`: the most specific hostname wins, then the earlier route. */
export function selectRoute(routes: readonly HttpRoute[], host: string): HttpRoute | null {
  const h = normalizeHost(host);
  let best: HttpRoute | null = null;
  let bestScore = -1;
  for (const route of routes) {
    for (const pattern of route.hostnames ?? []) {
      const score = hostnameScore(pattern, h);
      if (score > bestScore) {
        best = route;
        bestScore = score;
      }
    }
  }
  return best;
}

const REGEX_CACHE_LIMIT = 1000;
const regexCache = new Map<string, RegExp | null>();

/** An RE2 expression as a JavaScript RegExp matching whole strings; null when it does not compile. */
export function fullMatchRegex(re2: string): RegExp | null {
  const cached = regexCache.get(re2);
  if (cached !== undefined) return cached;
  let source = re2;
  let flags = '';
  const leading = /^\(\?([imsU]+)\)/.exec(source);
  if (leading !== null) {
    const letters = leading[1] ?? '';
    if (letters.includes('U')) {
      regexCache.set(re2, null);
      return null;
    }
    flags = [...new Set(letters)].join('');
    source = source.slice(leading[0].length);
  }
  source = source.replaceAll('(?P<', '(?<').replaceAll('\\A', '^').replaceAll('\\z', '$');
  let compiled: RegExp | null;
  try {
    compiled = new RegExp(`^(?:${source})$`, flags);
  } catch {
    compiled = null;
  }
  if (regexCache.size >= REGEX_CACHE_LIMIT) regexCache.clear();
  regexCache.set(re2, compiled);
  return compiled;
}

function regexMatches(re2: string, value: string): boolean {
  const regex = fullMatchRegex(re2);
  return regex?.test(value) === true;
}

export function pathMatches(match: RouteMatch, path: string): boolean {
  const ignoreCase = match.ignoreCase === true;
  if (typeof match.fullPathMatch === 'string') {
    return ignoreCase
      ? path.toLowerCase() === match.fullPathMatch.toLowerCase()
      : path === match.fullPathMatch;
  }
  if (typeof match.prefixMatch === 'string') {
    return ignoreCase
      ? path.toLowerCase().startsWith(match.prefixMatch.toLowerCase())
      : path.startsWith(match.prefixMatch);
  }
  if (typeof match.regexMatch === 'string') return regexMatches(match.regexMatch, path);
  return true;
}

function headerValue(headers: RequestView['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  if (value === undefined) return undefined;
  return typeof value === 'string' ? value : value.join(',');
}

export function headerMatches(matcher: HeaderMatch, headers: RequestView['headers']): boolean {
  const invert = matcher.invertMatch === true;
  const value = typeof matcher.header === 'string' ? headerValue(headers, matcher.header) : undefined;
  const presentOnly = typeof matcher.presentMatch === 'boolean' && !hasValueMatcher(matcher);
  if (value === undefined) {
    if (!presentOnly) return false;
    return invert ? matcher.presentMatch === true : matcher.presentMatch === false;
  }
  let result: boolean;
  if (typeof matcher.exactMatch === 'string') result = value === matcher.exactMatch;
  else if (typeof matcher.prefixMatch === 'string') result = value.startsWith(matcher.prefixMatch);
  else if (typeof matcher.suffixMatch === 'string') result = value.endsWith(matcher.suffixMatch);
  else if (typeof matcher.regexMatch === 'string') result = regexMatches(matcher.regexMatch, value);
  else if (matcher.rangeMatch) result = inRange(value, matcher.rangeMatch);
  else if (typeof matcher.presentMatch === 'boolean') result = matcher.presentMatch;
  else result = true; // a name alone: the header is there
  return invert ? !result : result;
}

function hasValueMatcher(m: HeaderMatch): boolean {
  return (
    typeof m.exactMatch === 'string' ||
    typeof m.prefixMatch === 'string' ||
    typeof m.suffixMatch === 'string' ||
    typeof m.regexMatch === 'string' ||
    m.rangeMatch != null
  );
}

function inRange(value: string, range: NonNullable<HeaderMatch['rangeMatch']>): boolean {
  if (!/^[+-]?\d+$/.test(value.trim())) return false;
  const n = Number(value.trim());
  const start = typeof range.start === 'number' ? range.start : 0;
  const end = typeof range.end === 'number' ? range.end : 0;
  return n >= start && n < end;
}

export function queryParameterMatches(matcher: QueryParameterMatch, params: URLSearchParams): boolean {
  if (typeof matcher.queryParameter !== 'string') return false;
  const value = params.get(matcher.queryParameter);
  if (value === null) return false;
  if (typeof matcher.exactMatch === 'string') return value === matcher.exactMatch;
  if (typeof matcher.regexMatch === 'string') return regexMatches(matcher.regexMatch, value);
  return true; // presentMatch, or the name alone
}

/** Whether one RouteMatch holds: path, every header and every query parameter. */
export function routeMatches(match: RouteMatch, request: RequestView): boolean {
  if (!pathMatches(match, request.path)) return false;
  for (const header of match.headers ?? []) if (!headerMatches(header, request.headers)) return false;
  const queryMatchers = match.queryParameters ?? [];
  if (queryMatchers.length > 0) {
    const params = new URLSearchParams(request.query);
    for (const q of queryMatchers) if (!queryParameterMatches(q, params)) return false;
  }
  return true;
}

/** The first rule of `route` the request matches, or null. */
export function selectRule(route: HttpRoute, request: RequestView): RuleSelection | null {
  const rules = route.rules ?? [];
  for (let ruleIndex = 0; ruleIndex < rules.length; ruleIndex += 1) {
    const rule = rules[ruleIndex];
    if (rule === undefined) continue;
    const matches = rule.matches ?? [];
    if (matches.length === 0) return { route, ruleIndex, rule, match: null };
    for (const match of matches) {
      if (routeMatches(match, request)) return { route, ruleIndex, rule, match };
    }
  }
  return null;
}

/** Route, then rule, for one request. */
export function select(routes: readonly HttpRoute[], request: RequestView): Selection {
  const route = selectRoute(routes, request.host);
  if (route === null) return { kind: 'noRoute', host: normalizeHost(request.host) };
  const selected = selectRule(route, request);
  if (selected === null) return { kind: 'noRule', route, host: normalizeHost(request.host) };
  return { kind: 'rule', ...selected };
}
