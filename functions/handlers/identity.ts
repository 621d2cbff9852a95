/**
 * Who is calling an HTTP function: the verified Google ID token of the request (docs/security.md#identity).
 *
 * The token is taken from `X-Serverless-Authorization` when that header is present, else from
 * `Authorization: Bearer`. Cloud Run's invoker check uses X-Serverless-Authorization first and then
 * passes `Authorization` through unchecked, so reading Authorization when both are present would
 * trust a token nobody checked.
 *
 * - `check: 'verify'`: the function verifies the token itself (adapters/id-token-verifier.ts).
 * - `check: 'cloudRun'`: Cloud Run's invoker IAM check has verified the token's signature and
 *   audience before the request arrived (it may strip the signature); the function reads its
 *   claims and still requires an accepted issuer and a verified email. Only safe behind that check:
 *   never with `allUsers` as invoker.
 */
import type { Request } from '@google-cloud/functions-framework';
import {
  audienceAccepted,
  decodeJwt,
  identityProblem,
  idTokenVerifier,
  MAX_TOKEN_BYTES,
  shown,
} from '../adapters/id-token-verifier.ts';
import type { Config } from '../app/config.ts';
import type { Caller } from '../core/caller.ts';
import { TransientError, UnauthenticatedError } from '../errors.ts';

export type VerifiedCaller = Extract<Caller, { kind: 'verified' }>;

/** The caller of a request, or UnauthenticatedError (401); `claimed` is what the body says. */
export type Identify = (req: Request, claimed?: string | null) => Promise<VerifiedCaller>;

const BEARER = /^Bearer +([^\s]+) *$/i;
/** A header longer than this cannot hold an acceptable token; refused before any parsing. */
const MAX_HEADER_CHARS = MAX_TOKEN_BYTES + 16;
const MAX_CLAIMED_CHARS = 200;

/** The bearer token the request carries (X-Serverless-Authorization first), or a 401. */
export function bearerToken(req: Pick<Request, 'get'>): string {
  const serverless = req.get('x-serverless-authorization');
  const [header, name] =
    serverless === undefined
      ? [req.get('authorization'), 'Authorization']
      : [serverless, 'X-Serverless-Authorization'];
  if (header === undefined || header === '') {
    throw new UnauthenticatedError('no ID token: the request has no Authorization header');
  }
  if (header.length > MAX_HEADER_CHARS) {
    throw new UnauthenticatedError(`ID token refused: token longer than ${MAX_TOKEN_BYTES} bytes`);
  }
  const token = BEARER.exec(header)?.[1];
  if (token === undefined) throw new UnauthenticatedError(`ID token refused: ${name} is not "Bearer TOKEN"`);
  return token;
}

/** Reads the claims of a token Cloud Run has already checked (see the module comment). */
function cloudRunEmail(token: string, identity: Config['identity']): string {
  const jwt = decodeJwt(token);
  if (jwt === null) throw new UnauthenticatedError('ID token refused: not a JWT');
  const problem = identityProblem(jwt.claims, identity.issuers);
  if (problem !== null) throw new UnauthenticatedError(`ID token refused: ${problem}`);
  if (identity.audiences.length > 0 && !audienceAccepted(jwt.claims['aud'], identity.audiences)) {
    throw new UnauthenticatedError(`ID token refused: audience ${shown(jwt.claims['aud'])} is not accepted`);
  }
  return String(jwt.claims['email']);
}

/** What a function uses to identify its callers, made once per instance (it caches signing keys). */
export function identify(identity: Config['identity'], now: () => number): Identify {
  const verify =
    identity.check === 'verify'
      ? idTokenVerifier({
          jwksUrl: identity.jwksUrl,
          issuers: identity.issuers,
          audiences: identity.audiences,
          now,
        })
      : null;
  return async (req, claimed = null) => {
    const token = bearerToken(req);
    let email: string;
    if (verify === null) {
      email = cloudRunEmail(token, identity);
    } else {
      const verification = await verify(token);
      if (!verification.ok && verification.transient === true) {
        throw new TransientError(`ID token not checked: ${verification.reason}`, {
          code: 'SIGNING_KEYS_UNAVAILABLE',
          hint: 'try again shortly',
        });
      }
      if (!verification.ok) throw new UnauthenticatedError(`ID token refused: ${verification.reason}`);
      email = verification.claims.email;
    }
    return {
      kind: 'verified',
      email: email.toLowerCase(),
      checkedBy: verify === null ? 'cloudRun' : 'controller',
      claimed: claimed === null ? null : claimed.slice(0, MAX_CLAIMED_CHARS),
    };
  };
}
