/** ID tokens are cached per audience until five minutes before they expire; a failed mint is not cached. */
import { describe, expect, it } from 'vitest';
import { CachingIdTokenSource, tokenExpiryMs } from '../../../functions/adapters/id-tokens.ts';

const jwt = (claims: object) =>
  `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('CachingIdTokenSource', () => {
  it('reuses a token per audience until 5 minutes before exp, then mints again', async () => {
    let now = 1_000_000_000_000;
    const minted: string[] = [];
    const source = new CachingIdTokenSource(
      async (audience) => {
        minted.push(audience);
        return jwt({ aud: audience, exp: Math.floor(now / 1000) + 3600, n: minted.length });
      },
      () => now,
    );
    const first = await source.token('https://a.example');
    expect(await source.token('https://a.example')).toBe(first);
    await source.token('https://b.example');
    now += 54 * 60_000;
    expect(await source.token('https://a.example')).toBe(first);
    now += 2 * 60_000;
    expect(await source.token('https://a.example')).not.toBe(first);
    expect(minted).toEqual(['https://a.example', 'https://b.example', 'https://a.example']);
  });

  it('concurrent calls share one mint; a failure is not cached', async () => {
    let calls = 0;
    const source = new CachingIdTokenSource(async () => {
      calls += 1;
      if (calls === 1) throw new Error('PERMISSION_DENIED');
      return jwt({ exp: Math.floor(Date.now() / 1000) + 3600 });
    });
    const both = await Promise.allSettled([source.token('x'), source.token('x')]);
    expect(both.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(calls).toBe(1);
    await expect(source.token('x')).resolves.toMatch(/\.sig$/);
    expect(calls).toBe(2);
  });

  it('reads exp without verifying; none when the token is not a JWT', () => {
    expect(tokenExpiryMs(jwt({ exp: 1700000000 }))).toBe(1_700_000_000_000);
    expect(tokenExpiryMs('opaque')).toBeNull();
    expect(tokenExpiryMs('a.!!!.c')).toBeNull();
  });
});
