/**
 * Bad hooks in a rollout request are rejected with the field named and nothing created: the
 * schema (names, counts, timeouts) and, at start, the controller's URL policy.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../functions/app/config.ts';
import { acceptedRequest } from '../../../functions/app/start-rollout.ts';
import { normalisePlan } from '../../../functions/core/plan.ts';
import { validateRolloutRequest } from '../../../functions/core/request.ts';
import { InvalidInputError } from '../../../functions/errors.ts';
import { request, requestInput, TIMING } from '../../support/fixtures.ts';

const URL = 'https://hooks.example.com/h';
const ENV = {
  GOOGLE_CLOUD_PROJECT: 'demo-project',
  ALLOWED_ROUTES: 'projects/demo-project/locations/global/httpRoutes/*',
};

function problems(hooks: unknown): Record<string, string> {
  const result = validateRolloutRequest({ ...requestInput(), hooks });
  if (result.ok) throw new Error('expected the request to be rejected');
  return Object.fromEntries(result.issues.map((i) => [i.field, i.rule]));
}

function rejectedAtStart(hooks: unknown, env: Record<string, string> = {}): InvalidInputError {
  try {
    acceptedRequest(loadConfig({ ...ENV, ...env }), { ...requestInput(), hooks });
  } catch (error) {
    if (error instanceof InvalidInputError) return error;
    throw error;
  }
  throw new Error('expected the request to be rejected');
}

describe('hooks in the rollout request', () => {
  it('rejects duplicate names, too many hooks and absurd timeouts, naming the field', () => {
    expect(problems({ preStep: [{ name: 'a', url: URL }], check: [{ name: 'a', url: URL }] })).toMatchObject({
      'hooks.check[0].name': expect.stringMatching(/unique/),
    });
    const six = Array.from({ length: 6 }, (_, i) => ({ name: `h${i}`, url: URL }));
    expect(problems({ preRollout: six })).toMatchObject({
      'hooks.preRollout': expect.stringMatching(/at most 5/),
    });
    expect(problems({ postRollout: [{ name: 'slow', url: URL, timeout: '2h' }] })).toMatchObject({
      'hooks.postRollout[0].timeout': expect.stringMatching(/must be/),
    });
    expect(problems({ preStep: [{ name: 'g', url: URL, failAfter: '30d' }] })).toMatchObject({
      'hooks.preStep[0].failAfter': expect.stringMatching(/must be/),
    });
  });

  it.each([
    ['http://hooks.example.com/h', /https/],
    ['https://169.254.169.254/computeMetadata', /metadata server/],
    ['https://169.254.1.1/x', /private, loopback or link-local/],
    ['https://metadata.google.internal/x', /metadata server/],
    ['https://10.0.0.7/smoke', /private/],
    ['https://user:secret@hooks.example.com/h', /user or password/],
  ])('rejects %s under the production URL policy at start, naming the field', (url, rule) => {
    const error = rejectedAtStart({ preRollout: [{ name: 'ok', url: URL }], check: [{ name: 'bad', url }] });
    expect(error.problems).toEqual([{ field: 'hooks.check[0].url', rule: expect.stringMatching(rule) }]);
    expect(error.message).toContain('hooks.check[0].url');
  });

  it('the local policy lets hooks reach local services over plain HTTP', () => {
    const env = { HOOK_URL_POLICY: 'local', NETWORK_SERVICES_ENDPOINT: 'http://127.0.0.1:9000' };
    const accepted = acceptedRequest(loadConfig({ ...ENV, ...env }), {
      ...requestInput(),
      hooks: { check: [{ name: 'smoke', url: 'http://127.0.0.1:8123/smoke' }] },
    });
    expect(accepted.hooks?.check?.[0]?.url).toBe('http://127.0.0.1:8123/smoke');
  });

  it('the local policy still rejects the metadata server by address, naming the field', () => {
    const env = { HOOK_URL_POLICY: 'local', NETWORK_SERVICES_ENDPOINT: 'http://127.0.0.1:9000' };
    expect(() =>
      acceptedRequest(loadConfig({ ...ENV, ...env }), {
        ...requestInput(),
        hooks: { onRollback: [{ name: 'meta', url: 'http://169.254.169.254/computeMetadata/v1/' }] },
      }),
    ).toThrow(/hooks\.onRollback\[0\]\.url.*metadata server/);
  });

  it('the plan scales failAfter like holds but never a call’s timeout', () => {
    const spec = request({
      hooks: { preStep: [{ name: 'g', url: URL, timeout: '20s', failAfter: '10m', onFailure: 'rollback' }] },
    });
    const metrics = {
      stable: { preset: 'cloudRun', service: 's' },
      canary: { preset: 'cloudRun', service: 'c' },
    } as const;
    const plan = normalisePlan(spec, { metrics, timing: TIMING, timeScale: 10, stalledAfterMs: 900_000 });
    expect(plan.hooks?.preStep).toEqual([
      {
        name: 'g',
        url: URL,
        method: 'POST',
        timeoutMs: 20_000,
        retries: 2,
        failAfterMs: 60_000,
        onFailure: 'rollback',
        failureLimit: null,
      },
    ]);
    expect(plan.hooks?.check).toEqual([]);
    expect(
      normalisePlan(request(), { metrics, timing: TIMING, timeScale: 1, stalledAfterMs: 900_000 }).hooks,
    ).toBeUndefined();
  });
});
