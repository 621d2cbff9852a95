/**
 * The local IAM stand-in's signing key: an RSA key generated at start, RS256 JWTs shaped like
 * Google's ID tokens, and the public half as a JWKS (like https://www.googleapis.com/oauth2/v3/certs).
 */
import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';

export const GOOGLE_ISSUER = 'https://accounts.google.com';
export const ID_TOKEN_LIFETIME_S = 3600;

export interface Jwk {
  readonly kty: string;
  readonly n: string;
  readonly e: string;
  readonly kid: string;
  readonly alg: 'RS256';
  readonly use: 'sig';
}

export interface IdTokenClaims {
  readonly iss: string;
  readonly aud: string;
  readonly sub: string;
  readonly azp: string;
  readonly iat: number;
  readonly exp: number;
  readonly email?: string;
  readonly email_verified?: boolean;
}

export interface TokenOptions {
  readonly audience: string;
  /** When it is issued (default: now). */
  readonly nowMs?: number;
  /** Seconds from issue to `exp` (default: an hour, like Google's). */
  readonly lifetimeS?: number;
  readonly issuer?: string;
  /** Whether the token carries `email` (default true) and whether it is verified (default true). */
  readonly includeEmail?: boolean;
  readonly emailVerified?: boolean;
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A service account's unique id as Google shows it (21 digits), derived from its email. */
export function uniqueIdOf(email: string): string {
  const digest = createHash('sha256').update(email).digest();
  return `1${BigInt(`0x${digest.subarray(0, 9).toString('hex')}`)
    .toString()
    .padStart(20, '0')
    .slice(0, 20)}`;
}

export class TokenSigner {
  readonly kid = randomBytes(20).toString('hex');
  readonly #privateKey: KeyObject;
  readonly #jwk: Jwk;

  constructor() {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.#privateKey = privateKey;
    const { kty, n, e } = publicKey.export({ format: 'jwk' });
    this.#jwk = { kty: kty ?? 'RSA', n: n ?? '', e: e ?? '', kid: this.kid, alg: 'RS256', use: 'sig' };
  }

  jwks(): { readonly keys: readonly Jwk[] } {
    return { keys: [this.#jwk] };
  }

  /** An ID token for `email` with audience `audience`, valid for an hour from `nowMs`. */
  idToken(email: string, audience: string, includeEmail: boolean, nowMs = Date.now()): string {
    return this.idTokenFor(email, { audience, includeEmail, nowMs });
  }

  /** An ID token as Google shapes it, with any claim changed (test identities, refused tokens). */
  idTokenFor(email: string, options: TokenOptions): string {
    const iat = Math.floor((options.nowMs ?? Date.now()) / 1000);
    const sub = uniqueIdOf(email);
    const claims: IdTokenClaims = {
      iss: options.issuer ?? GOOGLE_ISSUER,
      aud: options.audience,
      azp: sub,
      sub,
      iat,
      exp: iat + (options.lifetimeS ?? ID_TOKEN_LIFETIME_S),
      ...(options.includeEmail === false ? {} : { email, email_verified: options.emailVerified ?? true }),
    };
    return this.sign({ alg: 'RS256', kid: this.kid, typ: 'JWT' }, claims);
  }

  /** Signs any header and claims with this key (RS256), whatever the header says. */
  sign(header: Readonly<Record<string, unknown>>, claims: unknown): string {
    const signed = `${base64url(header)}.${base64url(claims)}`;
    return `${signed}.${sign('sha256', Buffer.from(signed), this.#privateKey).toString('base64url')}`;
  }
}
