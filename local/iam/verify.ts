/**
 * Verifies a Google-style ID token the way a hook target should (docs/hooks.md), with the
 * controller's own verifier (functions/adapters/id-token-verifier.ts): RS256 signature against the
 * issuer's JWKS, issuer, audience, expiry and a verified email. Used by the local hook services
 * with the local IAM stand-in's JWKS; the same checks apply with Google's
 * https://www.googleapis.com/oauth2/v3/certs.
 */
import {
  type Verification,
  idTokenVerifier as verifierOf,
} from '../../functions/adapters/id-token-verifier.ts';
import { GOOGLE_ISSUER } from './signer.ts';

export type { Verification } from '../../functions/adapters/id-token-verifier.ts';

export interface VerifyOptions {
  /** Where the signing keys are (fetched once per verifier, again for an unknown key id). */
  readonly jwksUrl: string;
  /** The audience the token must carry (the service's own origin). */
  readonly audience: string;
  /** Service accounts allowed to call (by `email`); omitted: any. */
  readonly allowedEmails?: readonly string[];
  readonly now?: () => number;
}

const ISSUERS = [GOOGLE_ISSUER, 'accounts.google.com'];

/** A verifier of `Authorization` header values, with its own key cache. */
export function idTokenVerifier(
  options: VerifyOptions,
): (authorization: string | undefined) => Promise<Verification> {
  const verify = verifierOf({
    jwksUrl: options.jwksUrl,
    issuers: ISSUERS,
    audiences: [options.audience],
    ...(options.now === undefined ? {} : { now: options.now }),
  });
  return async (authorization) => {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (token === undefined) return { ok: false, reason: 'no bearer token' };
    const verification = await verify(token);
    const allowed = options.allowedEmails;
    if (verification.ok && allowed !== undefined && !allowed.includes(verification.claims.email)) {
      return { ok: false, reason: `caller ${verification.claims.email} is not allowed` };
    }
    return verification;
  };
}
