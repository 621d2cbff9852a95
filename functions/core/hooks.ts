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
  readonly route: string;
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
  if (METADATA_HOSTS.has(host)) issues.push('must not point at the metadata server');
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
  const v6 = address.toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(v6);
  if (mapped?.[1] !== undefined) return isPrivateAddress(mapped[1]);
  return (
    v6 === '::' ||
    v6 === '::1' ||
    v6.startsWith('fc') ||
    v6.startsWith('fd') ||
    /^fe[89ab]/.test(v6) ||
    v6.startsWith('ff')
  );
}
