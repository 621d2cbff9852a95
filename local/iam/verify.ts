/**
 * Verifies a Google-style ID token the way a hook target should (docs/hooks.md): RS256 signature
 * against the issuer's JWKS, issuer, audience and expiry. Used by the local hook services with
 * the local IAM stand-in's JWKS; the same checks apply with Google's
 * https://www.googleapis.com/oauth2/v3/certs.
 */
import { createPublicKey, type JsonWebKey, verify } from 'node:crypto';
import { GOOGLE_ISSUER, type IdTokenClaims } from './signer.ts';

export type Verification =
  | { readonly ok: true; readonly claims: IdTokenClaims }
  | { readonly ok: false; readonly reason: string };

export interface VerifyOptions {
  /** Where the signing keys are (fetched once per verifier, again for an unknown key id). */
  readonly jwksUrl: string;
  /** The audience the token must carry (the service's own origin). */
  readonly audience: string;
  /** Service accounts allowed to call (by `email`); omitted: any. */
  readonly allowedEmails?: readonly string[];
  readonly now?: () => number;
}

const CLOCK_SKEW_S = 60;
const ISSUERS = new Set([GOOGLE_ISSUER, 'accounts.google.com']);

type Keys = ReadonlyMap<string, JsonWebKey>;

function decodePart(part: string | undefined): Record<string, unknown> | null {
  if (part === undefined) return null;
  try {
    const value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

async function fetchKeys(jwksUrl: string): Promise<Keys> {
  const response = await fetch(jwksUrl, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`JWKS ${jwksUrl} answered HTTP ${response.status}`);
  const jwks = (await response.json()) as { keys?: (JsonWebKey & { kid?: string })[] };
  return new Map((jwks.keys ?? []).map((key) => [String(key.kid), key]));
}

/** Checks claims once the signature holds: issuer, audience, expiry, allowed caller. */
function claimProblem(claims: Record<string, unknown>, options: VerifyOptions): string | null {
  const now = Math.floor((options.now?.() ?? Date.now()) / 1000);
  if (!ISSUERS.has(String(claims['iss']))) return `issuer ${String(claims['iss'])} is not Google`;
  if (claims['aud'] !== options.audience)
    return `audience ${String(claims['aud'])} is not ${options.audience}`;
  if (typeof claims['exp'] !== 'number' || claims['exp'] + CLOCK_SKEW_S < now) return 'token expired';
  if (typeof claims['iat'] !== 'number' || claims['iat'] - CLOCK_SKEW_S > now)
    return 'token issued in the future';
  const allowed = options.allowedEmails;
  if (
    allowed !== undefined &&
    !(claims['email_verified'] === true && allowed.includes(String(claims['email'])))
  ) {
    return `caller ${String(claims['email'])} is not allowed`;
  }
  return null;
}

/** A verifier with its own key cache. */
export function idTokenVerifier(
  options: VerifyOptions,
): (authorization: string | undefined) => Promise<Verification> {
  let keys: Promise<Keys> | null = null;
  const keyFor = async (kid: string): Promise<JsonWebKey | undefined> => {
    keys ??= fetchKeys(options.jwksUrl);
    let found = (await keys.catch(() => new Map<string, JsonWebKey>())).get(kid);
    if (found === undefined) {
      keys = fetchKeys(options.jwksUrl);
      found = (await keys.catch(() => new Map<string, JsonWebKey>())).get(kid);
    }
    return found;
  };
  return async (authorization) => {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (token === undefined) return { ok: false, reason: 'no bearer token' };
    const [head, body, signature] = token.split('.');
    const header = decodePart(head);
    const claims = decodePart(body);
    if (header === null || claims === null || signature === undefined)
      return { ok: false, reason: 'not a JWT' };
    if (header['alg'] !== 'RS256')
      return { ok: false, reason: `algorithm ${String(header['alg'])} is not RS256` };
    const jwk = await keyFor(String(header['kid']));
    if (jwk === undefined) return { ok: false, reason: `unknown signing key ${String(header['kid'])}` };
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    if (!verify('sha256', Buffer.from(`${head}.${body}`), key, Buffer.from(signature, 'base64url'))) {
      return { ok: false, reason: 'bad signature' };
    }
    const problem = claimProblem(claims, options);
    return problem === null
      ? { ok: true, claims: claims as unknown as IdTokenClaims }
      : { ok: false, reason: problem };
  };
}
