/**
 * Verifies Google-signed OIDC ID tokens the way Google documents it
 * (https://developers.google.com/identity/openid-connect/openid-connect#validatinganidtoken):
 * an RS256 signature by a key of the issuer's JWKS (found by `kid`), an accepted issuer, an
 * accepted audience, `exp`/`iat` within 60 s of clock skew, and a verified `email`.
 *
 * Bounded cost: a token longer than 8 KB is refused before anything is decoded; the JWKS is fetched
 * with a timeout, cached (for its Cache-Control max-age, 1 h by default), and fetched again for an
 * unknown `kid` at most once per 30 s. A token is a credential: no reason this module gives
 * contains one, and nothing here logs.
 */
import { createPublicKey, type JsonWebKey, type KeyObject, verify as verifySignature } from 'node:crypto';

export const MAX_TOKEN_BYTES = 8 * 1024;
export const CLOCK_SKEW_S = 60;
/** The shortest time between two JWKS fetches caused by an unknown key id. */
export const UNKNOWN_KID_REFETCH_MS = 30_000;
/** …and while no key could be loaded at all (the JWKS was unreachable). */
const NO_KEYS_REFETCH_MS = 1_000;
const JWKS_TIMEOUT_MS = 5_000;
const DEFAULT_KEYS_MAX_AGE_MS = 3_600_000;
const MAX_KEYS_AGE_MS = 86_400_000;
const MAX_KEYS = 50;
const SHOWN_CHARS = 100;

/** The claims of a verified token that the controller uses. */
export interface VerifiedClaims {
  readonly iss: string;
  readonly aud: string;
  readonly sub: string;
  readonly email: string;
  readonly email_verified: true;
  readonly iat: number;
  readonly exp: number;
}

export type Verification =
  | { readonly ok: true; readonly claims: VerifiedClaims }
  /** `transient`: the signing keys could not be fetched (try again), not a bad token. */
  | { readonly ok: false; readonly reason: string; readonly transient?: true };

export interface IdTokenVerifierOptions {
  /** Where the issuer's signing keys are (Google: https://www.googleapis.com/oauth2/v3/certs). */
  readonly jwksUrl: string;
  readonly issuers: readonly string[];
  /** Accepted `aud` values (a trailing slash is not significant). */
  readonly audiences: readonly string[];
  /** Milliseconds since the epoch; default Date.now. */
  readonly now?: () => number;
  readonly fetch?: typeof fetch;
  readonly fetchTimeoutMs?: number;
}

export type IdTokenVerifier = (token: string) => Promise<Verification>;

type Claims = Record<string, unknown>;

/** A value from a token, quoted and cut short (tokens are attacker input). */
export function shown(value: unknown): string {
  const text = typeof value === 'string' ? value : (JSON.stringify(value) ?? 'undefined');
  return JSON.stringify(text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text);
}

function decodePart(part: string | undefined): Claims | null {
  if (part === undefined || !/^[A-Za-z0-9_-]+$/.test(part)) return null;
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Claims) : null;
  } catch {
    return null;
  }
}

/** A JWT's header and claims, read without checking anything (null when it is not a JWT). */
export function decodeJwt(
  token: string,
): { header: Claims; claims: Claims; signed: string; signature: string } | null {
  if (token.length > MAX_TOKEN_BYTES) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [head, body, signature = ''] = parts;
  const header = decodePart(head);
  const claims = decodePart(body);
  if (header === null || claims === null) return null;
  return { header, claims, signed: `${head}.${body}`, signature };
}

const withoutSlash = (url: string) => (url.endsWith('/') ? url.slice(0, -1) : url);

/** Whether `aud` is one of `audiences` (a trailing slash on either is not significant). */
export function audienceAccepted(aud: unknown, audiences: readonly string[]): boolean {
  return typeof aud === 'string' && audiences.some((a) => withoutSlash(a) === withoutSlash(aud));
}

/** Issuer and verified email, the claims every accepted caller must carry; null when they hold. */
export function identityProblem(claims: Claims, issuers: readonly string[]): string | null {
  if (typeof claims['iss'] !== 'string' || !issuers.includes(claims['iss']))
    return `issuer ${shown(claims['iss'])} is not accepted`;
  if (typeof claims['email'] !== 'string' || claims['email'] === '') return 'the token carries no email';
  if (claims['email_verified'] !== true) return `email ${shown(claims['email'])} is not verified`;
  return null;
}

/** Everything but the signature, once it holds. */
function claimProblem(claims: Claims, options: IdTokenVerifierOptions, nowS: number): string | null {
  const identity = identityProblem(claims, options.issuers);
  if (identity !== null) return identity;
  if (!audienceAccepted(claims['aud'], options.audiences))
    return `audience ${shown(claims['aud'])} is not accepted`;
  if (typeof claims['exp'] !== 'number' || claims['exp'] + CLOCK_SKEW_S < nowS) return 'token expired';
  if (typeof claims['iat'] !== 'number' || claims['iat'] - CLOCK_SKEW_S > nowS)
    return 'token issued in the future';
  if (typeof claims['nbf'] === 'number' && claims['nbf'] - CLOCK_SKEW_S > nowS) return 'token not yet valid';
  if (typeof claims['sub'] !== 'string') return 'the token carries no subject';
  return null;
}

type KeyLookup = KeyObject | 'unknown' | 'unreachable';

/** The issuer's public keys by `kid`, fetched on demand and cached (see the module comment). */
export class SigningKeys {
  readonly #options: IdTokenVerifierOptions;
  #keys = new Map<string, KeyObject>();
  #attemptedAt = Number.NEGATIVE_INFINITY;
  #freshUntil = Number.NEGATIVE_INFINITY;
  #pending: Promise<void> | null = null;

  constructor(options: IdTokenVerifierOptions) {
    this.#options = options;
  }

  async key(kid: string): Promise<KeyLookup> {
    const now = this.#now();
    if (now >= this.#freshUntil && this.#mayFetch(now, NO_KEYS_REFETCH_MS)) await this.#refresh();
    const found = this.#keys.get(kid);
    if (found !== undefined) return found;
    const gap = this.#keys.size === 0 ? NO_KEYS_REFETCH_MS : UNKNOWN_KID_REFETCH_MS;
    if (this.#mayFetch(this.#now(), gap)) await this.#refresh();
    return this.#keys.get(kid) ?? (this.#keys.size === 0 ? 'unreachable' : 'unknown');
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  #mayFetch(now: number, gap: number): boolean {
    return this.#pending !== null || now - this.#attemptedAt >= gap;
  }

  /** One fetch at a time; a failure keeps the keys already known. */
  #refresh(): Promise<void> {
    if (this.#pending !== null) return this.#pending;
    this.#attemptedAt = this.#now();
    this.#pending = this.#fetch()
      .then(({ keys, maxAgeMs }) => {
        this.#keys = keys;
        this.#freshUntil = this.#now() + maxAgeMs;
      })
      .catch(() => undefined)
      .finally(() => {
        this.#pending = null;
      });
    return this.#pending;
  }

  async #fetch(): Promise<{ keys: Map<string, KeyObject>; maxAgeMs: number }> {
    const response = await (this.#options.fetch ?? fetch)(this.#options.jwksUrl, {
      signal: AbortSignal.timeout(this.#options.fetchTimeoutMs ?? JWKS_TIMEOUT_MS),
    });
    if (!response.ok) throw new Error(`JWKS answered HTTP ${response.status}`);
    const body = (await response.json()) as { keys?: unknown };
    const keys = new Map<string, KeyObject>();
    for (const jwk of Array.isArray(body.keys) ? body.keys.slice(0, MAX_KEYS) : []) {
      const parsed = rsaKey(jwk);
      if (parsed !== null) keys.set(parsed.kid, parsed.key);
    }
    return { keys, maxAgeMs: maxAgeOf(response.headers.get('cache-control')) };
  }
}

function rsaKey(jwk: unknown): { kid: string; key: KeyObject } | null {
  if (typeof jwk !== 'object' || jwk === null) return null;
  const k = jwk as JsonWebKey & { kid?: unknown; alg?: unknown; use?: unknown };
  if (k.kty !== 'RSA' || typeof k.kid !== 'string' || typeof k.n !== 'string' || typeof k.e !== 'string')
    return null;
  if ((k.alg !== undefined && k.alg !== 'RS256') || (k.use !== undefined && k.use !== 'sig')) return null;
  try {
    return { kid: k.kid, key: createPublicKey({ key: { kty: 'RSA', n: k.n, e: k.e }, format: 'jwk' }) };
  } catch {
    return null;
  }
}

function maxAgeOf(cacheControl: string | null): number {
  const seconds = Number(/max-age=(\d+)/.exec(cacheControl ?? '')?.[1]);
  if (!Number.isFinite(seconds) || seconds <= 0) return DEFAULT_KEYS_MAX_AGE_MS;
  return Math.min(Math.max(seconds * 1000, 60_000), MAX_KEYS_AGE_MS);
}

const refuse = (reason: string): Verification => ({ ok: false, reason });

/** A verifier with its own key cache (make one per process and keep it). */
export function idTokenVerifier(options: IdTokenVerifierOptions): IdTokenVerifier {
  const keys = new SigningKeys(options);
  return async (token) => {
    if (token.length > MAX_TOKEN_BYTES) return refuse(`token longer than ${MAX_TOKEN_BYTES} bytes`);
    const jwt = decodeJwt(token);
    if (jwt === null) return refuse('not a JWT');
    const { header, claims } = jwt;
    if (header['alg'] !== 'RS256') return refuse(`algorithm ${shown(header['alg'])} is not RS256`);
    if (typeof header['kid'] !== 'string') return refuse('the token names no signing key (kid)');
    const key = await keys.key(header['kid']);
    if (key === 'unreachable') {
      return { ok: false, reason: 'the signing keys could not be fetched', transient: true };
    }
    if (key === 'unknown') return refuse(`unknown signing key ${shown(header['kid'])}`);
    const signature = Buffer.from(jwt.signature, 'base64url');
    if (!verifySignature('sha256', Buffer.from(jwt.signed), key, signature)) return refuse('bad signature');
    const problem = claimProblem(claims, options, Math.floor((options.now ?? Date.now)() / 1000));
    return problem === null ? { ok: true, claims: claims as unknown as VerifiedClaims } : refuse(problem);
  };
}
