/**
 * `auth: {type: OIDC}` on the local Workflows runner: the call carries an ID token minted for the
 * audience (the URL by default, or auth.audience), as Workflows sends its service account's token.
 */
import { describe, expect, it } from 'vitest';
import { runWorkflow } from '../../../local/workflows/interpreter.ts';
import { loadWorkflowText } from '../../../local/workflows/load.ts';

const YAML = (auth: string) => `
main:
  steps:
    - call:
        call: http.post
        args:
          url: https://advance.example/run?x=1
          ${auth}
          body: {a: 1}
        result: r
    - done:
        return: \${r.code}
`;

async function authorizationSent(auth: string): Promise<{ header: string | null; audiences: string[] }> {
  const audiences: string[] = [];
  let header: string | null = null;
  await runWorkflow(loadWorkflowText(YAML(auth)), null, {
    oidcToken: async (audience) => {
      audiences.push(audience);
      return `token-for-${audience}`;
    },
    fetch: (async (_url: string | URL | Request, init?: RequestInit) => {
      header = new Headers(init?.headers).get('authorization');
      return new Response('{}', { headers: { 'content-type': 'application/json' } });
    }) as typeof fetch,
  });
  return { header, audiences };
}

describe('http.* with auth OIDC', () => {
  it('sends a token for the URL (without its query) by default', async () => {
    expect(await authorizationSent('auth: {type: OIDC}')).toEqual({
      header: 'Bearer token-for-https://advance.example/run',
      audiences: ['https://advance.example/run'],
    });
  });

  it('sends a token for auth.audience when given, and none without auth or for OAuth2', async () => {
    expect(
      (await authorizationSent('auth: {type: OIDC, audience: "https://aud.example"}')).audiences,
    ).toEqual(['https://aud.example']);
    expect(await authorizationSent('headers: {x: "1"}')).toEqual({ header: null, audiences: [] });
    expect(await authorizationSent('auth: {type: OAuth2}')).toEqual({ header: null, audiences: [] });
  });
});
