/**
 * Google-signed OIDC ID tokens for hook calls, one per audience (the hook URL's origin), cached
 * until shortly before they expire.
 *
 * With a hooks service account (config.hooks.serviceAccount) the token is minted by the IAM
 * Credentials API (`generateIdToken`, includeEmail) as that account: the controller needs only
 * roles/iam.serviceAccountOpenIdTokenCreator on it. Without one, the function's own identity
 * signs, through the metadata server. A token is a credential: never log it.
 */
import { auth, iamcredentials } from 'googleapis/build/src/apis/iamcredentials/index.js';

export interface IdTokenSource {
  /** A valid ID token whose `aud` is `audience`; rejects when none can be minted. */
  token(audience: string): Promise<string>;
}

/** Mints one token (no caching). */
export type IdTokenMinter = (audience: string) => Promise<string>;

/** Tokens are used until this long before their `exp` (Google's last 1 h). */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** How long a token without a readable `exp` is reused. */
const UNKNOWN_EXPIRY_REUSE_MS = 60_000;
const MINT_TIMEOUT_MS = 10_000;
const SCOPES = ['https://www.googleapis.com/auth/cloud-platform'];

/** The `exp` claim (ms since the epoch) of a JWT, read without verifying it (for caching only). */
export function tokenExpiryMs(token: string): number | null {
  const payload = token.split('.')[1];
  if (payload === undefined) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { exp?: unknown };
    return typeof claims.exp === 'number' ? claims.exp * 1000 : null;
  } catch {
    return null;
  }
}

/** Caches a minter's tokens per audience; concurrent calls for one audience share one mint. */
export class CachingIdTokenSource implements IdTokenSource {
  readonly #mint: IdTokenMinter;
  readonly #clock: () => number;
  readonly #cache = new Map<string, { readonly token: Promise<string>; usableUntil: number }>();

  constructor(mint: IdTokenMinter, clock: () => number = () => Date.now()) {
    this.#mint = mint;
    this.#clock = clock;
  }

  token(audience: string): Promise<string> {
    const now = this.#clock();
    const cached = this.#cache.get(audience);
    if (cached !== undefined && now < cached.usableUntil) return cached.token;
    const entry = { token: this.#mint(audience), usableUntil: Number.POSITIVE_INFINITY };
    this.#cache.set(audience, entry);
    entry.token.then(
      (token) => {
        const exp = tokenExpiryMs(token);
        entry.usableUntil = exp === null ? now + UNKNOWN_EXPIRY_REUSE_MS : exp - REFRESH_MARGIN_MS;
      },
      () => {
        if (this.#cache.get(audience) === entry) this.#cache.delete(audience);
      },
    );
    return entry.token;
  }
}

/** IAM Credentials `generateIdToken` as `serviceAccount` (rootUrl: a local stand-in, unauthenticated). */
export function iamCredentialsMinter(serviceAccount: string, rootUrl: string | null): IdTokenMinter {
  const api =
    rootUrl === null
      ? iamcredentials({ version: 'v1', auth: new auth.GoogleAuth({ scopes: SCOPES }) })
      : iamcredentials({ version: 'v1', rootUrl });
  return async (audience) => {
    const response = await api.projects.serviceAccounts.generateIdToken(
      {
        name: `projects/-/serviceAccounts/${serviceAccount}`,
        requestBody: { audience, includeEmail: true },
      },
      { timeout: MINT_TIMEOUT_MS },
    );
    const token = response.data.token;
    if (typeof token !== 'string' || token === '') {
      throw new Error('IAM Credentials generateIdToken answered without a token');
    }
    return token;
  };
}

/** The function's own identity, from the metadata server. */
export function metadataMinter(): IdTokenMinter {
  const googleAuth = new auth.GoogleAuth();
  return async (audience) => {
    const client = await googleAuth.getIdTokenClient(audience);
    return client.idTokenProvider.fetchIdToken(audience);
  };
}

export interface IdTokenConfig {
  readonly serviceAccount: string | null;
  readonly iamCredentialsEndpoint: string | null;
}

export function idTokenSource(config: IdTokenConfig): IdTokenSource {
  const mint =
    config.serviceAccount === null
      ? metadataMinter()
      : iamCredentialsMinter(config.serviceAccount, config.iamCredentialsEndpoint);
  return new CachingIdTokenSource(mint);
}

/** The excerpt of a call whose token could not be minted (the error's message names the cause). */
export function mintFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return `the ID token could not be minted: ${message}`;
}
