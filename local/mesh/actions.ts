/**
 * What a rule's action does to a request before it is forwarded, and the actions the proxy
 * answers itself (pure; no I/O).
 *
 * Applied: destinations (weighted), requestHeaderModifier and responseHeaderModifier (on the
 * action and on the chosen destination: action first, then destination; each removes, then
 * sets, then adds), urlRewrite (pathPrefixRewrite replaces the matched part of the path,
 * hostRewrite the Host header), timeout, redirect, directResponse, faultInjectionPolicy (delay
 * and abort; as documented, a rule with a fault policy ignores its timeout).
 * Ignored (listed by `ignoredActionFields`): retryPolicy, requestMirrorPolicy, corsPolicy,
 * statefulSessionAffinity, idleTimeout.
 */
import type { RequestView } from './match.ts';
import type {
  FaultInjectionPolicy,
  HeaderModifier,
  Redirect,
  RouteAction,
  RouteMatch,
} from './route-types.ts';
import type { RandomSource } from './weights.ts';

/** Headers with lower-case names and every value kept (Node's `headersDistinct` shape). */
export type HeaderBag = Record<string, string[]>;

/** Milliseconds of a protobuf JSON Duration ("5s", "0.250s"); null when malformed. */
export function parseDuration(text: string | null | undefined): number | null {
  if (typeof text !== 'string') return null;
  const m = /^(\d+)(?:\.(\d{1,9}))?s$/.exec(text.trim());
  if (m === null) return null;
  const seconds = Number(m[1]);
  const fraction = m[2] === undefined ? 0 : Number(`0.${m[2]}`);
  return (seconds + fraction) * 1000;
}

/** Applies one modifier in place: remove, then set (replace), then add (append). */
export function applyHeaderModifier(bag: HeaderBag, modifier: HeaderModifier | null | undefined): void {
  if (!modifier) return;
  for (const name of modifier.remove ?? []) delete bag[name.toLowerCase()];
  for (const [name, value] of Object.entries(modifier.set ?? {})) bag[name.toLowerCase()] = [value];
  for (const [name, value] of Object.entries(modifier.add ?? {})) {
    const key = name.toLowerCase();
    const existing = bag[key];
    if (existing === undefined) bag[key] = [value];
    else existing.push(value);
  }
}

/** The part of `path` the match consumed, for prefix rewriting ("/" when it has no path matcher). */
function matchedPrefixLength(path: string, match: RouteMatch | null): number {
  if (match === null) return path.startsWith('/') ? 1 : 0;
  if (typeof match.fullPathMatch === 'string' || typeof match.regexMatch === 'string') return path.length;
  if (typeof match.prefixMatch === 'string') return Math.min(match.prefixMatch.length, path.length);
  return path.startsWith('/') ? 1 : 0;
}

/** The path after `pathPrefixRewrite` (unchanged when no rewrite is set). */
export function rewritePath(
  path: string,
  match: RouteMatch | null,
  prefixRewrite: string | null | undefined,
): string {
  if (typeof prefixRewrite !== 'string' || prefixRewrite === '') return path;
  const rewritten = prefixRewrite + path.slice(matchedPrefixLength(path, match));
  return rewritten.startsWith('/') ? rewritten : `/${rewritten}`;
}

const REDIRECT_CODES: Readonly<Record<string, number>> = {
  MOVED_PERMANENTLY_DEFAULT: 301,
  FOUND: 302,
  SEE_OTHER: 303,
  TEMPORARY_REDIRECT: 307,
  PERMANENT_REDIRECT: 308,
};

export interface RedirectAnswer {
  readonly status: number;
  readonly location: string;
}

/** The redirect a rule answers with, as an absolute URL. */
export function redirectFor(
  request: RequestView,
  match: RouteMatch | null,
  redirect: Redirect,
): RedirectAnswer {
  const status = REDIRECT_CODES[redirect.responseCode ?? ''] ?? 301;
  const scheme = redirect.httpsRedirect === true ? 'https' : 'http';
  let host =
    typeof redirect.hostRedirect === 'string' && redirect.hostRedirect !== ''
      ? redirect.hostRedirect
      : request.host;
  if (typeof redirect.portRedirect === 'number' && redirect.portRedirect > 0) {
    host = `${host.replace(/:\d+$/, '')}:${redirect.portRedirect}`;
  } else if (redirect.httpsRedirect === true) {
    host = host.replace(/:\d+$/, '');
  }
  let path = request.path;
  if (typeof redirect.pathRedirect === 'string' && redirect.pathRedirect !== '') path = redirect.pathRedirect;
  else if (typeof redirect.prefixRewrite === 'string')
    path = rewritePath(request.path, match, redirect.prefixRewrite);
  const query = redirect.stripQuery === true || request.query === '' ? '' : `?${request.query}`;
  return { status, location: `${scheme}://${host}${path}${query}` };
}

export interface FaultDecision {
  readonly delayMs: number;
  /** Status to answer with instead of forwarding; null to forward. */
  readonly abortStatus: number | null;
}

/** Draws the fault policy for one request (delay first, then abort, as Envoy's fault filter). */
export function decideFault(policy: FaultInjectionPolicy, random: RandomSource): FaultDecision {
  let delayMs = 0;
  const delay = policy.delay;
  if (delay) {
    const ms = parseDuration(delay.fixedDelay);
    if (ms !== null && ms > 0 && random() * 100 < (delay.percentage ?? 0)) delayMs = ms;
  }
  let abortStatus: number | null = null;
  const abort = policy.abort;
  if (abort && typeof abort.httpStatus === 'number' && random() * 100 < (abort.percentage ?? 0)) {
    abortStatus = abort.httpStatus;
  }
  return { delayMs, abortStatus };
}

/** The route timeout in ms (0 = none), given the proxy's default for rules without one. */
export function routeTimeoutMs(action: RouteAction, defaultMs: number): number {
  if (action.faultInjectionPolicy) return 0;
  const ms = parseDuration(action.timeout);
  return ms === null ? defaultMs : ms;
}

const IGNORED_FIELDS = [
  'retryPolicy',
  'requestMirrorPolicy',
  'corsPolicy',
  'statefulSessionAffinity',
  'idleTimeout',
] as const;

/** Action fields present on `action` that the local mesh does not apply. */
export function ignoredActionFields(action: RouteAction): string[] {
  return IGNORED_FIELDS.filter((field) => action[field] != null);
}
