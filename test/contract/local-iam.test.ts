/**
 * The local IAM Credentials stand-in: generateIdToken as the googleapis client calls it, Google's
 * error shapes, and tokens that the verifier (local/iam/verify.ts) accepts only for their audience
 * and lifetime.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iamCredentialsMinter, tokenExpiryMs } from '../../functions/adapters/id-tokens.ts';
import { DEFAULT_HOOKS_SERVICE_ACCOUNT, type IamServer, startIamServer } from '../../local/iam/server.ts';
import { TokenSigner } from '../../local/iam/signer.ts';
import { idTokenVerifier } from '../../local/iam/verify.ts';

let iam: IamServer;

beforeAll(async () => {
  iam = await startIamServer();
});
afterAll(() => iam.close());

const generate = (email: string, body: unknown, project = '-') =>
  fetch(`${iam.url}v1/projects/${project}/serviceAccounts/${encodeURIComponent(email)}:generateIdToken`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });

describe('generateIdToken errors (Google JSON shape)', () => {
  it('400 INVALID_ARGUMENT for a missing audience', async () => {
    const response = await generate(DEFAULT_HOOKS_SERVICE_ACCOUNT, { includeEmail: true });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      error: { code: 400, status: 'INVALID_ARGUMENT', message: expect.stringMatching(/audience/) },
    });
  });

  it('400 for a body that is not JSON, and for a project other than "-"', async () => {
    expect((await generate(DEFAULT_HOOKS_SERVICE_ACCOUNT, '{nope')).status).toBe(400);
    const response = await generate(
      DEFAULT_HOOKS_SERVICE_ACCOUNT,
      { audience: 'https://a.example' },
      'demo-project',
    );
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(/wildcard/);
  });

  it('404 NOT_FOUND for an unknown service account', async () => {
    const response = await generate('ghost@demo-project.iam.gserviceaccount.com', {
      audience: 'https://a.example',
    });
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: { code: 404, status: 'NOT_FOUND', message: expect.stringMatching(/ghost@demo-project/) },
    });
  });

  it('404 for another path or verb', async () => {
    expect(
      (await fetch(`${iam.url}v1/projects/-/serviceAccounts/x:signJwt`, { method: 'POST' })).status,
    ).toBe(404);
    expect((await fetch(`${iam.url}v1/projects/-/serviceAccounts/x:generateIdToken`)).status).toBe(404);
  });

  it('the googleapis client surfaces the error (a minter rejects)', async () => {
    await expect(
      iamCredentialsMinter('ghost@demo-project.iam.gserviceaccount.com', iam.url)('https://a.example'),
    ).rejects.toThrow(/Gaia id not found/);
  });
});

describe('tokens', () => {
  const audience = 'https://hooks.example.com';

  it('through the googleapis client: an RS256 JWT with Google claims, valid for an hour', async () => {
    const token = await iamCredentialsMinter(DEFAULT_HOOKS_SERVICE_ACCOUNT, iam.url)(audience);
    const [header, payload] = token
      .split('.')
      .slice(0, 2)
      .map((p) => JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>);
    expect(header).toMatchObject({ alg: 'RS256', kid: iam.signer.kid });
    expect(payload).toMatchObject({
      iss: 'https://accounts.google.com',
      aud: audience,
      email: DEFAULT_HOOKS_SERVICE_ACCOUNT,
      email_verified: true,
      sub: expect.stringMatching(/^\d{21}$/),
    });
    expect(Number(payload?.['exp']) - Number(payload?.['iat'])).toBe(3600);
    expect(tokenExpiryMs(token)).toBe(Number(payload?.['exp']) * 1000);
  });

  it('verifies against the JWKS for its audience only, within its lifetime, from the allowed caller', async () => {
    const token = await iamCredentialsMinter(DEFAULT_HOOKS_SERVICE_ACCOUNT, iam.url)(audience);
    const bearer = `Bearer ${token}`;
    const verify = (options: { audience?: string; now?: number; allowedEmails?: string[] } = {}) =>
      idTokenVerifier({
        jwksUrl: iam.jwksUrl,
        audience: options.audience ?? audience,
        ...(options.now === undefined ? {} : { now: () => options.now as number }),
        ...(options.allowedEmails ? { allowedEmails: options.allowedEmails } : {}),
      })(bearer);
    expect(await verify()).toMatchObject({ ok: true, claims: { aud: audience } });
    expect(await verify({ allowedEmails: [DEFAULT_HOOKS_SERVICE_ACCOUNT] })).toMatchObject({ ok: true });
    expect(await verify({ allowedEmails: ['other@p.iam.gserviceaccount.com'] })).toMatchObject({ ok: false });
    expect(await verify({ audience: 'https://other.example.com' })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/audience/),
    });
    expect(await verify({ now: Date.now() + 2 * 3600_000 })).toEqual({ ok: false, reason: 'token expired' });
  });

  it('rejects a token signed by another key, a tampered token, and no token', async () => {
    const verify = idTokenVerifier({ jwksUrl: iam.jwksUrl, audience });
    const foreign = new TokenSigner().idToken(DEFAULT_HOOKS_SERVICE_ACCOUNT, audience, true);
    expect(await verify(`Bearer ${foreign}`)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/unknown signing key/),
    });
    const token = iam.signer.idToken(DEFAULT_HOOKS_SERVICE_ACCOUNT, 'https://attacker.example', true);
    const [head, , signature] = token.split('.');
    const claims = Buffer.from(
      JSON.stringify({
        ...JSON.parse(Buffer.from(String(token.split('.')[1]), 'base64url').toString()),
        aud: audience,
      }),
    ).toString('base64url');
    expect(await verify(`Bearer ${head}.${claims}.${signature}`)).toEqual({
      ok: false,
      reason: 'bad signature',
    });
    expect(await verify(undefined)).toEqual({ ok: false, reason: 'no bearer token' });
  });
});
