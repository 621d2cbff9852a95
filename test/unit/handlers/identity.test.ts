/**
 * Which token identifies an HTTP caller (X-Serverless-Authorization before Authorization) and the
 * `cloudRun` mode, which reads the claims of a token Cloud Run already checked.
 */
import type { Request } from '@google-cloud/functions-framework';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../../functions/app/config.ts';
import { TransientError, UnauthenticatedError } from '../../../functions/errors.ts';
import { bearerToken, identify } from '../../../functions/handlers/identity.ts';
import { GOOGLE_ISSUER, TokenSigner } from '../../../local/iam/signer.ts';

const AUDIENCE = 'https://control-abc.a.run.app';
const signer = new TokenSigner();

const request = (headers: Record<string, string>) =>
  ({ get: (name: string) => headers[name.toLowerCase()] }) as unknown as Request;

const identity = (
  check: 'verify' | 'cloudRun',
  jwksUrl = 'http://127.0.0.1:9/certs',
): Config['identity'] => ({
  check,
  audiences: [AUDIENCE],
  jwksUrl,
  issuers: [GOOGLE_ISSUER],
  drivers: [],
});

describe('bearerToken', () => {
  it('takes X-Serverless-Authorization when present, even when Authorization is there too', () => {
    expect(
      bearerToken(
        request({ 'x-serverless-authorization': 'Bearer checked', authorization: 'Bearer unchecked' }),
      ),
    ).toBe('checked');
    expect(bearerToken(request({ authorization: 'bearer only' }))).toBe('only');
  });

  it('refuses a missing, malformed or oversized header (401), never falling back to Authorization', () => {
    expect(() => bearerToken(request({}))).toThrow(UnauthenticatedError);
    expect(() => bearerToken(request({ authorization: 'Basic abc' }))).toThrow(/not "Bearer TOKEN"/);
    expect(() =>
      bearerToken(request({ 'x-serverless-authorization': 'junk', authorization: 'Bearer fine' })),
    ).toThrow(/X-Serverless-Authorization is not "Bearer TOKEN"/);
    expect(() => bearerToken(request({ authorization: `Bearer ${'a'.repeat(9000)}` }))).toThrow(
      /longer than 8192/,
    );
  });
});

describe("identify, check 'cloudRun'", () => {
  const callerOf = identify(identity('cloudRun'), Date.now);

  it('reads the email of the token Cloud Run checked (signature removed), keeping the claimed name apart', async () => {
    const [head, body] = signer.idTokenFor('Ann@Example.com', { audience: AUDIENCE }).split('.');
    const stripped = `${head}.${body}.SIGNATURE_REMOVED_BY_GOOGLE`;
    expect(await callerOf(request({ authorization: `Bearer ${stripped}` }), 'ceo@victim')).toEqual({
      kind: 'verified',
      email: 'ann@example.com',
      checkedBy: 'cloudRun',
      claimed: 'ceo@victim',
    });
  });

  it('still requires an accepted issuer, a verified email and an accepted audience', async () => {
    const cases = [
      signer.idTokenFor('a@example.com', { audience: AUDIENCE, issuer: 'https://evil.example' }),
      signer.idTokenFor('a@example.com', { audience: AUDIENCE, includeEmail: false }),
      signer.idTokenFor('a@example.com', { audience: AUDIENCE, emailVerified: false }),
      signer.idTokenFor('a@example.com', { audience: 'https://other.a.run.app' }),
      'not-a-jwt',
    ];
    for (const token of cases) {
      await expect(callerOf(request({ authorization: `Bearer ${token}` }))).rejects.toThrow(
        UnauthenticatedError,
      );
    }
  });
});

describe("identify, check 'verify'", () => {
  it('answers 503 (transient), not 401, when the signing keys cannot be fetched', async () => {
    const callerOf = identify(identity('verify'), Date.now);
    const token = signer.idTokenFor('a@example.com', { audience: AUDIENCE });
    await expect(callerOf(request({ authorization: `Bearer ${token}` }))).rejects.toThrow(TransientError);
  });
});
