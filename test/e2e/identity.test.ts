/**
 * Verified identity end to end (docs/security.md#identity): the HTTP functions identify callers
 * from Google-style ID tokens signed by the local IAM stand-in. Tokens that are missing, expired,
 * for another audience, unsigned (alg none), signed by another key or from another issuer are
 * refused with 401 and change nothing, a verified caller without a grant gets 403 and changes nothing; a verified operator's command is recorded under the
 * verified email, a self-declared `actor` only as the caller's claimed note; advanceRollout
 * accepts only the workflows' account, whose executions keep driving the rollout.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Rollout } from '../../functions/core/state.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { TokenSigner } from '../../local/iam/signer.ts';
import { LOCAL_IDENTITIES, workflowsServiceAccount } from '../../local/identities.ts';
import { functionUrl, type Stack, startStack } from '../support/stack.ts';

let stack: Stack;
let api = '';
let advanceUrl = '';
const ID = 'id-1';
const { operator } = LOCAL_IDENTITIES;
/** Every header value a test sent (to check none reached a log). */
const sent: string[] = [];
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

beforeAll(async () => {
  stack = await startStack({ project: 'e2e-identity', apps: ['checkout'] });
  api = functionUrl(stack.controller, 'controlHttp');
  advanceUrl = functionUrl(stack.controller, 'advanceRollout');
});
afterAll(() => stack.stop());

async function call(url: string, headers: Record<string, string>, body?: unknown) {
  sent.push(...Object.values(headers));
  const response = await fetch(
    url,
    body === undefined
      ? { headers }
      : {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify(body),
        },
  );
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** Every way a token can be unacceptable, each made fresh. */
function refusedTokens(): [string, Record<string, string>][] {
  const now = Math.floor(Date.now() / 1000);
  const unsignedClaims = {
    iss: 'https://accounts.google.com',
    aud: api,
    sub: '1',
    email: operator,
    email_verified: true,
    iat: now,
    exp: now + 600,
  };
  return [
    ['missing', {}],
    ['expired', bearer(stack.tokenFor(operator, { nowMs: Date.now() - 2 * 3600_000 }))],
    ['for another audience (advanceRollout)', bearer(stack.tokenFor(operator, { audience: advanceUrl }))],
    ['unsigned (alg none)', bearer(`${b64({ alg: 'none', typ: 'JWT' })}.${b64(unsignedClaims)}.`)],
    ['signed by another key', bearer(new TokenSigner().idTokenFor(operator, { audience: api }))],
    ['from another issuer', bearer(stack.tokenFor(operator, { issuer: 'https://issuer.attacker.example' }))],
    [
      'unchecked Authorization behind a bad X-Serverless-Authorization',
      { 'x-serverless-authorization': 'Bearer junk', ...bearer(stack.tokenFor(operator)) },
    ],
  ];
}

async function snapshot(): Promise<{ rollout: Rollout | null; history: unknown[] }> {
  return { rollout: await stack.store.get(ID), history: await stack.store.history(ID) };
}

describe('verified identity', () => {
  it('refuses unacceptable tokens with 401 on every request, changing nothing', async () => {
    const app = stack.app('checkout');
    stack.load(app);
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, {
        rolloutId: ID,
        steps: [
          { gate: 'manual', note: 'approve' },
          { weight: 10, hold: '1h' },
        ],
      }),
    );
    await stack.waitFor(ID, (r) => r.status.phase === 'Paused');
    const before = await snapshot();
    for (const [what, headers] of refusedTokens()) {
      for (const command of ['resume', 'abort']) {
        const answer = await call(api, headers, { rolloutId: ID, command, reason: what });
        expect({ what, ...answer }).toMatchObject({
          what,
          status: 401,
          json: { error: { code: 'UNAUTHENTICATED', message: expect.any(String), hint: expect.any(String) } },
        });
      }
      expect({ what, ...(await call(`${api}?rolloutId=${ID}`, headers)) }).toMatchObject({
        what,
        status: 401,
      });
    }
    // A verified caller the policy grants nothing on this route: 403, and the refusal names it.
    for (const command of ['resume', 'promote', 'abort']) {
      const answer = await call(api, stack.authorized(LOCAL_IDENTITIES.viewer), {
        rolloutId: ID,
        command,
        reason: 'not mine',
      });
      expect({ command, ...answer }).toMatchObject({
        command,
        status: 403,
        json: {
          error: { code: 'FORBIDDEN', message: expect.stringContaining(`user:${LOCAL_IDENTITIES.viewer}`) },
        },
      });
    }
    const refusals = stack.logs.filter(
      (l) =>
        l.fields['code'] === 'FORBIDDEN' &&
        JSON.stringify(l.fields['principals']).includes(LOCAL_IDENTITIES.viewer),
    );
    expect(refusals.map((l) => l.severity)).toEqual(['WARNING', 'WARNING', 'WARNING']);
    expect(await snapshot()).toEqual(before);
    expect(stack.route(app).rules?.[1]?.action?.destinations).toEqual([{ serviceName: app.stable }]);
  });

  it('records the verified operator as the actor, a self-declared actor only as claimed', async () => {
    const resumed = await call(api, stack.authorized(operator), {
      rolloutId: ID,
      command: 'resume',
      actor: 'ceo@victim',
      reason: 'approved',
    });
    expect(resumed).toMatchObject({ status: 200, json: { applied: true } });
    await stack.waitFor(ID, (r) => r.weights.canary === 10 && r.intent === null);
    const status = await call(`${api}?rolloutId=${ID}`, stack.authorized(LOCAL_IDENTITIES.viewer));
    expect(status).toMatchObject({ status: 200, json: { rollout: { id: ID } } });

    const paused = await call(api, stack.authorized(operator), {
      rolloutId: ID,
      command: 'pause',
      actor: 'ceo@victim',
      reason: 'look first',
    });
    expect(paused).toMatchObject({ status: 200, json: { applied: true, phase: 'Paused' } });
    const history = await stack.store.history(ID);
    const entry = history.find((h) => h.event === 'rollout.paused' && h.actor.startsWith('operator:'));
    expect(entry).toMatchObject({
      actor: `operator:${operator}`,
      caller: { kind: 'verified', email: operator, checkedBy: 'controller', claimed: 'ceo@victim' },
    });
    expect(history.filter((h) => h.actor.includes('ceo@victim'))).toEqual([]);
    expect((await stack.store.get(ID))?.status).toMatchObject({
      phase: 'Paused',
      reason: { kind: 'operator' },
    });
  });

  it('advanceRollout: 401 without a token, 403 for anyone but the workflows, whose execution goes on', async () => {
    const body = { rolloutId: ID };
    const noToken = await call(advanceUrl, {}, body);
    expect(noToken).toMatchObject({ status: 401, json: { error: { code: 'UNAUTHENTICATED' } } });
    const asOperator = await call(advanceUrl, stack.authorized(operator, 'advanceRollout'), body);
    expect(asOperator).toMatchObject({ status: 403, json: { error: { code: 'FORBIDDEN' } } });
    expect(String((asOperator.json['error'] as { message: string }).message)).toContain(`user:${operator}`);
    const asWorkflow = await call(
      advanceUrl,
      stack.authorized(workflowsServiceAccount(stack.cloud.project), 'advanceRollout'),
      body,
    );
    expect(asWorkflow).toMatchObject({ status: 200, json: { done: false } });
    // The workflow's own calls carried an ID token of its account (a refusal would have failed it).
    const rollout = await stack.store.get(ID);
    const execution = rollout?.driver.kind === 'workflow' ? rollout.driver.execution : null;
    expect(execution).toEqual(expect.stringContaining('/executions/'));
    expect(stack.controller.workflows.executions.get(String(execution)).state).toBe('ACTIVE');
    const refusals = stack.logs.filter((l) => l.fn === 'advanceRollout' && l.severity === 'ERROR');
    expect(refusals.map((l) => l.fields['code'])).toEqual(['UNAUTHENTICATED', 'FORBIDDEN']);
  });

  it('never logs a token', () => {
    const signatures = sent.flatMap((t) => t.split(/[ .]/)).filter((part) => part.length > 40);
    expect(signatures.length).toBeGreaterThan(10);
    const logged = JSON.stringify(stack.logs);
    expect(signatures.filter((s) => logged.includes(s))).toEqual([]);
  });
});
