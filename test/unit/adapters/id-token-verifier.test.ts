/**
 * The production ID-token verifier against a JWKS served by a fake fetch: what it accepts, every
 * refusal (each a reason, none containing the token), and the bounded cost of its key cache.
 */
import { describe, expect, it } from 'vitest';
import {
  type IdTokenVerifierOptions,
  idTokenVerifier,
  MAX_TOKEN_BYTES,
  UNKNOWN_KID_REFETCH_MS,
  type Verification,
} from '../../../functions/adapters/id-token-verifier.ts';
import { GOOGLE_ISSUER, TokenSigner } from '../../../local/iam/signer.ts';

const AUDIENCE = 'https://control-abc.a.run.app';
const JWKS_URL = 'https://keys.example/certs';
const EMAIL = 'ann@example.com';
const signer = new TokenSigner();
const other = new TokenSigner();
const base64url = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

interface Harness {
  readonly verify: (token: string) => Promise<Verification>;
  readonly fetches: () => number;
  readonly clock: { now: number };
  /** Which signers' keys the JWKS serves from now on; `fail`: it answers 503. */
  serve(signers: readonly TokenSigner[] | 'fail'): void;
}

function harness(overrides: Partial<IdTokenVerifierOptions> = {}): Harness {
  let served: readonly TokenSigner[] | 'fail' = [signer];
  let fetches = 0;
  const clock = { now: Date.now() };
  const fakeFetch = (async (url: string | URL | Request) => {
    fetches += 1;
    expect(String(url)).toBe(JWKS_URL);
    if (served === 'fail') return new Response('{}', { status: 503 });
    const keys = served.flatMap((s) => s.jwks().keys);
    return new Response(JSON.stringify({ keys }), { headers: { 'cache-control': 'public, max-age=3600' } });
  }) as typeof fetch;
  const verify = idTokenVerifier({
    jwksUrl: JWKS_URL,
    issuers: [GOOGLE_ISSUER, 'accounts.google.com'],
    audiences: [AUDIENCE],
    now: () => clock.now,
    fetch: fakeFetch,
    ...overrides,
  });
  return {
    verify,
    fetches: () => fetches,
    clock,
    serve: (s) => {
      served = s;
    },
  };
}

const token = (options: Partial<Parameters<TokenSigner['idTokenFor']>[1]> = {}, by = signer) =>
  by.idTokenFor(EMAIL, { audience: AUDIENCE, ...options });

describe('idTokenVerifier accepts', () => {
  it('a Google-shaped token for an accepted audience, issuer and verified email', async () => {
    const h = harness();
    const result = await h.verify(token());
    expect(result).toMatchObject({
      ok: true,
      claims: { email: EMAIL, email_verified: true, aud: AUDIENCE, iss: GOOGLE_ISSUER },
    });
  });

  it('an audience with or without a trailing slash, and the short issuer form', async () => {
    const h = harness();
    expect(await h.verify(token({ audience: `${AUDIENCE}/` }))).toMatchObject({ ok: true });
    expect(await h.verify(token({ issuer: 'accounts.google.com' }))).toMatchObject({ ok: true });
  });

  it('a token within 60 s of clock skew either way', async () => {
    const h = harness();
    const issued = h.clock.now;
    h.clock.now = issued + 3600_000 + 59_000;
    expect(await h.verify(token({ nowMs: issued }))).toMatchObject({ ok: true });
    h.clock.now = issued - 59_000;
    expect(await h.verify(token({ nowMs: issued }))).toMatchObject({ ok: true });
  });
});

describe('idTokenVerifier refuses', () => {
  const cases: [string, () => string, RegExp][] = [
    ['another audience', () => token({ audience: 'https://other.a.run.app' }), /audience "https:\/\/other/],
    ['another issuer', () => token({ issuer: 'https://evil.example' }), /issuer "https:\/\/evil.example"/],
    ['an expired token', () => token({ nowMs: Date.now() - 3600_000 - 61_000 }), /^token expired$/],
    ['a token issued in the future', () => token({ nowMs: Date.now() + 120_000 }), /future/],
    ['a token without email', () => token({ includeEmail: false }), /no email/],
    ['an unverified email', () => token({ emailVerified: false }), /not verified/],
    ['a key the JWKS does not have', () => token({}, other), /unknown signing key/],
    ['not a JWT', () => 'abc.def', /not a JWT/],
    ['a part that is not base64url JSON', () => `${base64url({ alg: 'RS256' })}.!!.x`, /not a JWT/],
  ];
  it.each(cases)('%s', async (_, make, reason) => {
    const result = await harness().verify(make());
    expect(result).toMatchObject({ ok: false, reason: expect.stringMatching(reason) });
    expect(result).not.toHaveProperty('transient');
  });

  it('alg none and HS256, even with a valid-looking body', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: GOOGLE_ISSUER,
      aud: AUDIENCE,
      sub: '1',
      email: EMAIL,
      email_verified: true,
      iat: now,
      exp: now + 600,
    };
    const h = harness();
    const none = `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`;
    expect(await h.verify(none)).toEqual({ ok: false, reason: 'algorithm "none" is not RS256' });
    const hs = signer.sign({ alg: 'HS256', kid: signer.kid }, claims);
    expect(await h.verify(hs)).toEqual({ ok: false, reason: 'algorithm "HS256" is not RS256' });
    // The real algorithm named in a header whose signature is not the key's.
    const forged = `${base64url({ alg: 'RS256', kid: signer.kid })}.${base64url(claims)}.${'A'.repeat(342)}`;
    expect(await h.verify(forged)).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('a token whose claims were changed after signing', async () => {
    const [head, , signature] = token({ audience: 'https://attacker.example' }).split('.');
    const payload = base64url({
      ...JSON.parse(Buffer.from(String(token().split('.')[1]), 'base64url').toString()),
    });
    expect(await harness().verify(`${head}.${payload}.${signature}`)).toEqual({
      ok: false,
      reason: 'bad signature',
    });
  });

  it('a token longer than 8 KB before decoding it (no key fetched), and quotes no token', async () => {
    const h = harness();
    const long = `${'a'.repeat(MAX_TOKEN_BYTES)}.b.c`;
    expect(await h.verify(long)).toEqual({ ok: false, reason: `token longer than ${MAX_TOKEN_BYTES} bytes` });
    expect(h.fetches()).toBe(0);
    const forged = signer.sign({ alg: 'RS256', kid: signer.kid }, { iss: 'x'.repeat(5000) });
    const result = await h.verify(forged);
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result).length).toBeLessThan(300);
    expect(JSON.stringify(result)).not.toContain(forged.split('.')[1]);
  });
});

describe('the signing keys', () => {
  it('are fetched once and cached', async () => {
    const h = harness();
    for (let i = 0; i < 5; i++) expect(await h.verify(token())).toMatchObject({ ok: true });
    expect(h.fetches()).toBe(1);
  });

  it('are fetched again for an unknown kid at most once per 30 s (a rotation is picked up)', async () => {
    const h = harness();
    await h.verify(token());
    h.serve([signer, other]);
    for (let i = 0; i < 20; i++) expect(await h.verify(token({}, other))).toMatchObject({ ok: false });
    expect(h.fetches()).toBe(1);
    h.clock.now += UNKNOWN_KID_REFETCH_MS;
    expect(await h.verify(token({ nowMs: h.clock.now }, other))).toMatchObject({ ok: true });
    expect(h.fetches()).toBe(2);
  });

  it('unreachable: a transient refusal, and the known keys stay in use when a refresh fails', async () => {
    const h = harness();
    h.serve('fail');
    expect(await h.verify(token())).toEqual({
      ok: false,
      reason: 'the signing keys could not be fetched',
      transient: true,
    });
    h.clock.now += 1000;
    h.serve([signer]);
    expect(await h.verify(token({ nowMs: h.clock.now }))).toMatchObject({ ok: true });
    h.serve('fail');
    h.clock.now += 2 * 3600_000;
    expect(await h.verify(token({ nowMs: h.clock.now }))).toMatchObject({ ok: true });
  });

  it('concurrent first calls share one fetch', async () => {
    const h = harness();
    const results = await Promise.all(Array.from({ length: 10 }, () => h.verify(token())));
    expect(results.every((r) => r.ok)).toBe(true);
    expect(h.fetches()).toBe(1);
  });
});
