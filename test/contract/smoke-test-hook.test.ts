/**
 * The local smoke-test service as a hook target on the local cloud: the production hook caller,
 * configured the way the local controller is (HOOK_URL_POLICY=local, the IAM stand-in, the
 * rollout-hooks account), calls it; it tests the canary through the mesh and its answer decides
 * the check. Callers without a valid token get 401.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { HttpHookCaller } from '../../functions/adapters/http-hook-caller.ts';
import { loadConfig } from '../../functions/app/config.ts';
import type { HookBody, PlanHook } from '../../functions/core/hooks.ts';
import type { HookCaller } from '../../functions/ports/hook-caller.ts';
import { createRuntime } from '../../functions/wiring.ts';
import { type LocalCloud, startLocalCloud } from '../../local/cloud.ts';
import { type SmokeTestService, startSmokeTest } from '../../local/hooks/smoke-test.ts';

let cloud: LocalCloud;
let smoke: SmokeTestService;

beforeAll(async () => {
  process.env['METADATA_SERVER_DETECTION'] = 'none';
  cloud = await startLocalCloud({
    project: 'smoke-hook-contract',
    timeScale: 20,
    apps: ['checkout'],
    alerts: false,
    timing: 'ideal',
    firestoreHost: inject('firestoreHost'),
    pubsubHost: inject('pubsubHost'),
    baseline: { errorRatio: 0, latencyMs: 0, jitterMs: 0 },
  });
  const app = cloud.apps[0];
  if (!app) throw new Error('no app');
  smoke = await startSmokeTest(cloud, app, { requests: 10 });
});
afterAll(async () => {
  await smoke.close();
  await cloud.stop();
});

/** The hook caller a function's runtime gets, in the environment the local controller gives it (local/controller.ts). */
async function localCaller(): Promise<HookCaller> {
  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: cloud.project,
    ALLOWED_ROUTES: cloud.apps.map((a) => a.route).join(','),
    NETWORK_SERVICES_ENDPOINT: cloud.networkServices.url,
    FIRESTORE_EMULATOR_HOST: cloud.firestoreHost,
    HOOK_URL_POLICY: 'local',
    IAM_CREDENTIALS_ENDPOINT: cloud.env['IAM_CREDENTIALS_ENDPOINT'],
    HOOKS_SERVICE_ACCOUNT: cloud.env['HOOKS_SERVICE_ACCOUNT'],
  });
  const hooks = await createRuntime(config).hooks();
  expect(hooks).toBeInstanceOf(HttpHookCaller);
  return hooks;
}

const check: PlanHook = {
  name: 'smoke',
  url: '',
  method: 'POST',
  timeoutMs: 10_000,
  retries: 0,
  failAfterMs: null,
  onFailure: null,
  failureLimit: 1,
};

function body(): Omit<HookBody, 'attempt'> {
  const app = cloud.apps[0];
  return {
    schemaVersion: 1,
    kind: 'check',
    hook: 'smoke',
    rolloutId: 'smoke-1',
    phase: 'Progressing',
    step: 1,
    weights: { stable: 90, canary: 10 },
    nextWeights: null,
    route: app?.route ?? '',
    stable: app?.stable ?? '',
    canary: app?.canary ?? '',
  } as Omit<HookBody, 'attempt'>;
}

describe('smoke-test hook on the local cloud', () => {
  it('passes while the canary answers, with every request served by the canary', async () => {
    const canary = cloud.backends.get(cloud.apps[0]?.canaryService ?? '');
    canary?.resetStats();
    const result = await (await localCaller()).call({ ...check, url: smoke.url }, body());
    expect(result).toMatchObject({ status: 'passed', code: 200, attempts: 1 });
    expect(JSON.parse(result.excerpt)).toEqual({ result: 'pass', requests: 10, errors: 0 });
    expect(smoke.runs.at(-1)).toMatchObject({ rolloutId: 'smoke-1', kind: 'check', result: 'pass' });
    expect(canary?.stats().total).toBe(10);
  });

  it('fails the check when the canary fails', async () => {
    const canary = cloud.backends.get(cloud.apps[0]?.canaryService ?? '');
    canary?.setBehaviour({ errorRatio: 1 });
    try {
      const result = await (await localCaller()).call({ ...check, url: smoke.url }, body());
      expect(result).toMatchObject({ status: 'failed', code: 200 });
      expect(JSON.parse(result.excerpt)).toEqual({ result: 'fail', requests: 10, errors: 10 });
    } finally {
      canary?.setBehaviour({ errorRatio: 0 });
    }
  });

  it('answers 401 without a token valid for its origin', async () => {
    const before = smoke.refused();
    const response = await fetch(smoke.url, { method: 'POST', body: '{}' });
    expect(response.status).toBe(401);
    const forged = cloud.iam.signer.idToken(cloud.hooksServiceAccount, 'https://elsewhere.example', true);
    const wrongAudience = await fetch(smoke.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${forged}` },
    });
    expect(wrongAudience.status).toBe(401);
    const stranger = cloud.iam.signer.idToken(
      'someone@else.iam.gserviceaccount.com',
      new URL(smoke.url).origin,
      true,
    );
    const wrongCaller = await fetch(smoke.url, {
      method: 'POST',
      headers: { authorization: `Bearer ${stranger}` },
    });
    expect(wrongCaller.status).toBe(401);
    expect(smoke.refused() - before).toBe(3);
  });
});
