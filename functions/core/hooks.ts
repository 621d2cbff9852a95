/**
 * Hooks: HTTP calls at points of a rollout's life (docs/hooks.md). This module holds what the
 * core and the driver share: the hook as the plan stores it, the JSON body every hook receives,
 * what one call came to, and the URL policy a request's hooks must meet. No I/O here.
 */
import type { HookPoint } from './request.ts';
import type { Weights } from './weights.ts';

export type { HookPoint } from './request.ts';

/** A hook as the plan stores it (durations in milliseconds; `failAfterMs` is scaled like holds). */
export interface PlanHook {
  readonly name: string;
  readonly url: string;
  readonly method: 'POST' | 'PUT' | 'GET';
  /** One attempt's limit, answer included (never scaled: it is real network time). */
  readonly timeoutMs: number;
  readonly retries: number;
  /** preStep, confirmPromotion: how long the rollout holds and calls again; else null. */
  readonly failAfterMs: number | null;
  readonly onFailure: 'pause' | 'rollback' | null;
  /** check: failed results per step before a rollback; else null. */
  readonly failureLimit: number | null;
}

export type PlanHooks = { readonly [P in HookPoint]: readonly PlanHook[] };

/** The JSON body of every hook call (docs/hooks.md). */
export interface HookBody {
  readonly schemaVersion: 1;
  readonly kind: HookPoint;
  readonly hook: string;
  readonly rolloutId: string;
  readonly phase: string;
  /** 1-based authored step the call is about (the step about to start for preStep), or null. */
  readonly step: number | null;
  readonly weights: Weights;
  /** Weights the call is about to allow (preStep, confirmPromotion), else null. */
  readonly nextWeights: Weights | null;
  /** The release's first route. */
  readonly route: string;
  /** Every route the release moves, in the order they are written. */
  readonly routes: readonly string[];
  readonly stable: string;
  readonly canary: string;
  /** 1-based attempt of this call within its retries. */
  readonly attempt: number;
}

/**
 * What one call came to, after its retries:
 * - passed: a 2xx answer (for a check, unless its JSON says otherwise);
 * - failed: a non-2xx answer after retries, or a check whose JSON result is "fail";
 * - inconclusive: a check whose JSON result is "inconclusive";
 * - timeout / unreachable: no answer within the timeout / no connection;
 * - invalidAnswer: an answer over the size limit, or declared JSON that does not parse;
 * - refused: the URL's host resolves to an address hooks may not reach (production policy).
 */
export type HookStatus =
  | 'passed'
  | 'failed'
  | 'inconclusive'
  | 'timeout'
  | 'unreachable'
  | 'invalidAnswer'
  | 'refused';

export const HOOK_EXCERPT_CHARS = 512;
export const HOOK_ANSWER_MAX_BYTES = 64 * 1024;

export interface HookResult {
  readonly point: HookPoint;
  readonly hook: string;
  readonly status: HookStatus;
  /** The last answer's HTTP status, or null when there was none. */
  readonly code: number | null;
  /** The start of the last answer (or of the error), at most HOOK_EXCERPT_CHARS characters. */
  readonly excerpt: string;
  readonly attempts: number;
  readonly durationMs: number;
}

/** Where hooks may point: production refuses plain HTTP and private, loopback and link-local hosts. */
export interface HookUrlPolicy {
  readonly allowHttp: boolean;
  readonly allowPrivate: boolean;
}

export const PRODUCTION_HOOK_POLICY: HookUrlPolicy = { allowHttp: false, allowPrivate: false };

const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata', 'metadata.goog']);
const METADATA_ADDRESS = '169.254.169.254';

/** The metadata server, by name (a trailing dot too) or by address (any IPv4 or IPv6 spelling): never, in either policy. */
export function isMetadataHost(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  if (METADATA_HOSTS.has(name) || name === METADATA_ADDRESS) return true;
  const groups = name.includes(':') ? ipv6Groups(name) : null;
  return groups !== null && embeddedIpv4(groups) === METADATA_ADDRESS;
}

/** Why a hook URL is not allowed under the policy (empty: allowed). Literal addresses only; the caller checks DNS answers. */
export function hookUrlIssues(text: string, policy: HookUrlPolicy): string[] {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return ['must be an absolute URL'];
  }
  const issues: string[] = [];
  if (url.protocol !== 'https:' && !(policy.allowHttp && url.protocol === 'http:')) {
    issues.push(policy.allowHttp ? 'must use https or http' : 'must use https');
  }
  if (url.username !== '' || url.password !== '') {
    issues.push(
      'must not carry a user or password (hooks are called with an OIDC token; put no secrets in URLs)',
    );
  }
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (isMetadataHost(host)) issues.push('must not point at the metadata server');
  else if (
    !policy.allowPrivate &&
    (host === 'localhost' || host.endsWith('.localhost') || isPrivateAddress(host))
  ) {
    issues.push('must not point at a private, loopback or link-local address');
  }
  return issues;
}

/** True for IPv4/IPv6 literals hooks must never reach in production (also used on DNS answers). */
export function isPrivateAddress(address: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (v4) {
    const [a, b] = [Number(v4[1]), Number(v4[2])];
    return (
      a === 0 ||
      a === 10 ||
      a === 127 ||
      (a === 100 && b >= 64 && b <= 127) ||
      (a === 169 && b === 254) ||
      (a === 172 && b >= 16 && b <= 31) ||
      (a === 192 && b === 168) ||
      a >= 224
    );
  }
  if (!address.includes(':')) return false;
  const groups = ipv6Groups(address);
  // Unparsable: refused rather than guessed at.
  if (groups === null) return true;
  const [first = 0] = groups;
  const embedded = embeddedIpv4(groups);
  if (embedded !== null) return isPrivateAddress(embedded);
  return (
    groups.every((g, i) => g === 0 || (i === 7 && g === 1)) ||
    (first & 0xfe00) === 0xfc00 ||
    (first & 0xffc0) === 0xfe80 ||
    (first & 0xff00) === 0xff00
  );
}

/** The IPv4 address an IPv6 one carries (IPv4-mapped ::ffff:0:0/96, IPv4-compatible ::/96, NAT64 64:ff9b::/96). */
function embeddedIpv4(groups: readonly number[]): string | null {
  const head = groups.slice(0, 6).join(':');
  if (head !== '0:0:0:0:0:65535' && head !== '0:0:0:0:0:0' && head !== '100:65435:0:0:0:0') return null;
  const [hi = 0, lo = 0] = groups.slice(6);
  if (head === '0:0:0:0:0:0' && hi === 0) return null;
  return [hi >> 8, hi & 0xff, lo >> 8, lo & 0xff].join('.');
}

/** The eight 16-bit groups of an IPv6 literal (any spelling, dotted IPv4 tail allowed), or null. */
function ipv6Groups(address: string): number[] | null {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const dotted = /^(.*:)(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (dotted) {
    const [a, b, c, d] = dotted.slice(2).map(Number) as [number, number, number, number];
    if ([a, b, c, d].some((n) => n > 255)) return null;
    text = `${dotted[1]}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const parse = (part: string | undefined) => (part ? part.split(':') : []);
  const left = parse(halves[0]);
  const right = parse(halves[1]);
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const all = [...left, ...Array<string>(halves.length === 1 ? 0 : missing).fill('0'), ...right];
  if (all.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return null;
  return all.map((g) => Number.parseInt(g, 16));
}
