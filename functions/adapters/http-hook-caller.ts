/**
 * HookCaller over HTTP(S) with a Google-signed OIDC ID token whose audience is the hook URL's
 * origin (docs/hooks.md). Each call makes 1 + retries attempts with exponential backoff (1 s,
 * 2 s, 4 s …) after a timeout, an unreachable host, 429 or 5xx. Under the production URL policy
 * the host's addresses are resolved and vetted first, and the connection goes to the vetted
 * address only. A call never throws for what the hook did, and never returns or logs the token.
 */
import { createHash } from 'node:crypto';
import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Config } from '../app/config.ts';
import {
  HOOK_ANSWER_MAX_BYTES,
  type HookBody,
  type HookResult,
  type HookUrlPolicy,
  hookUrlIssues,
  isMetadataHost,
  isPrivateAddress,
  type PlanHook,
} from '../core/hooks.ts';
import type { HookCaller } from '../ports/hook-caller.ts';
import { type AttemptReading, excerptOf, readAttempt } from './hook-answer.ts';
import { sendAttempt } from './hook-attempt.ts';
import { type IdTokenSource, idTokenSource, mintFailure } from './id-tokens.ts';

export const HOOK_USER_AGENT = 'gcp-canary-controller/0.1 (rollout hooks; see docs/hooks.md)';
/** The first backoff; each later one doubles. */
export const HOOK_BACKOFF_BASE_MS = 1000;

export interface HttpHookCallerOptions {
  readonly policy: HookUrlPolicy;
  readonly tokens: IdTokenSource;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly clock?: () => number;
  /** Every address of a host name (default: the system resolver, like a connection would). */
  readonly resolve?: (host: string) => Promise<readonly LookupAddress[]>;
}

const systemResolve = (host: string) => lookup(host, { all: true, verbatim: true });
const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Stable per (rollout, point, hook, step): a target can tell a redelivery from a new call. */
export function idempotencyKey(body: Omit<HookBody, 'attempt'>): string {
  const identity = JSON.stringify([body.rolloutId, body.kind, body.hook, body.step]);
  return createHash('sha256').update(identity).digest('hex').slice(0, 40);
}

function finalReading(status: 'refused' | 'unreachable', detail: string): AttemptReading {
  return { status, code: null, excerpt: excerptOf(detail), retryable: status === 'unreachable' };
}

export class HttpHookCaller implements HookCaller {
  readonly #policy: HookUrlPolicy;
  readonly #tokens: IdTokenSource;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #clock: () => number;
  readonly #resolve: (host: string) => Promise<readonly LookupAddress[]>;

  constructor(options: HttpHookCallerOptions) {
    this.#policy = options.policy;
    this.#tokens = options.tokens;
    this.#sleep = options.sleep ?? realSleep;
    this.#clock = options.clock ?? (() => Date.now());
    this.#resolve = options.resolve ?? systemResolve;
  }

  async call(hook: PlanHook, body: Omit<HookBody, 'attempt'>): Promise<HookResult> {
    const started = this.#clock();
    const attempts = 1 + Math.max(0, Math.floor(hook.retries));
    let reading: AttemptReading = finalReading('unreachable', 'not called');
    let made = 0;
    while (made < attempts) {
      if (made > 0) await this.#sleep(HOOK_BACKOFF_BASE_MS * 2 ** (made - 1));
      made += 1;
      reading = await this.#attempt(hook, { ...body, attempt: made });
      if (!reading.retryable) break;
    }
    return {
      point: body.kind,
      hook: hook.name,
      status: reading.status,
      code: reading.code,
      excerpt: reading.excerpt,
      attempts: made,
      durationMs: Math.max(0, this.#clock() - started),
    };
  }

  async #attempt(hook: PlanHook, body: HookBody): Promise<AttemptReading> {
    const issues = hookUrlIssues(hook.url, this.#policy);
    if (issues.length > 0) return finalReading('refused', `the hook URL ${issues.join('; ')}`);
    const url = new URL(hook.url);
    const address = await this.#vettedAddress(url);
    if ('status' in address) return address;
    let token: string;
    try {
      token = await this.#tokens.token(url.origin);
    } catch (error) {
      return finalReading('unreachable', mintFailure(error));
    }
    const payload = hook.method === 'GET' ? null : JSON.stringify(body);
    const outcome = await sendAttempt({
      url,
      method: hook.method,
      headers: headersFor(token, body, payload),
      body: payload,
      timeoutMs: hook.timeoutMs,
      address,
      maxBytes: HOOK_ANSWER_MAX_BYTES,
    });
    return readAttempt(body.kind, outcome, token);
  }

  /** The address to connect to: the literal, or the first answer of a host every answer of which the policy allows. */
  async #vettedAddress(url: URL): Promise<LookupAddress | AttemptReading> {
    const host = url.hostname.replace(/^\[|\]$/g, '');
    const family = isIP(host);
    if (family !== 0) return { address: host, family };
    let addresses: readonly LookupAddress[];
    try {
      addresses = await this.#resolve(host);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
      return finalReading('unreachable', `cannot resolve ${host}: ${code}`);
    }
    const first = addresses[0];
    if (first === undefined) return finalReading('unreachable', `cannot resolve ${host}: no address`);
    const metadata = addresses.filter((a) => isMetadataHost(a.address));
    if (metadata.length > 0) return finalReading('refused', `${host} resolves to the metadata server`);
    const barred = addresses.filter((a) => isPrivateAddress(a.address));
    if (!this.#policy.allowPrivate && barred.length > 0) {
      const list = barred.map((a) => a.address).join(', ');
      return finalReading(
        'refused',
        `${host} resolves to a private, loopback or link-local address (${list})`,
      );
    }
    return first;
  }
}

function headersFor(token: string, body: HookBody, payload: string | null): Record<string, string> {
  return {
    authorization: `Bearer ${token}`,
    'user-agent': HOOK_USER_AGENT,
    accept: 'application/json',
    'x-rollout-id': body.rolloutId,
    'idempotency-key': idempotencyKey(body),
    ...(payload === null
      ? {}
      : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) }),
  };
}

/** The production adapter from the controller's configuration. */
export function createHookCaller(config: Config): HookCaller {
  return new HttpHookCaller({
    policy: config.hooks.urlPolicy,
    tokens: idTokenSource({
      serviceAccount: config.hooks.serviceAccount,
      iamCredentialsEndpoint: config.endpoints.iamCredentials,
    }),
  });
}
