/**
 * The production URL policy end to end: the controller's functions run with
 * HOOK_URL_POLICY=production (the default on Google Cloud) on the local cloud. Requests whose hooks
 * are plain HTTP, or point at the metadata server or at a private, loopback or link-local address,
 * are rejected with the field named and nothing created; a request with an HTTPS hook on a public
 * host is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import { TOPICS } from '../../functions/manifest.ts';
import { rejection, state } from '../support/hook-e2e.ts';
import { eventsOf, type Stack, startStack } from '../support/stack.ts';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    project: 'e2e-hooks-policy',
    apps: ['checkout'],
    cloud: { alerts: false },
    controller: { env: { HOOK_URL_POLICY: 'production' } },
  });
});
afterAll(() => stack?.stop());

const PRIVATE = /must not point at a private, loopback or link-local address/;

describe('hooks under the production URL policy', () => {
  it('rejects plain HTTP, the metadata server and private addresses, naming the field; nothing is created', async () => {
    const app = stack.app('checkout');
    const before = JSON.stringify(stack.route(app));
    const cases: { id: string; point: string; url: string; rules: RegExp[] }[] = [
      { id: 'p-http', point: 'preRollout', url: 'http://hooks.example.com/start', rules: [/must use https/] },
      {
        id: 'p-metadata-ip',
        point: 'onRollback',
        url: 'https://169.254.169.254/computeMetadata/v1/',
        rules: [/must not point at the metadata server/],
      },
      {
        id: 'p-metadata-http',
        point: 'postRollout',
        url: 'http://metadata.google.internal/computeMetadata/v1/instance/service-accounts/default/token',
        rules: [/must use https/, /must not point at the metadata server/],
      },
      { id: 'p-link-local', point: 'check', url: 'https://169.254.10.10/smoke', rules: [PRIVATE] },
      { id: 'p-private', point: 'preStep', url: 'https://10.0.0.7/gate', rules: [PRIVATE] },
      { id: 'p-loopback', point: 'confirmPromotion', url: 'https://127.0.0.1:8443/cab', rules: [PRIVATE] },
      { id: 'p-ipv6-link-local', point: 'check', url: 'https://[fe80::1]/smoke', rules: [PRIVATE] },
      { id: 'p-mapped', point: 'preRollout', url: 'https://[::ffff:192.168.1.1]/x', rules: [PRIVATE] },
      { id: 'p-localhost', point: 'postRollout', url: 'https://localhost/notify', rules: [PRIVATE] },
      // What the local cloud accepts (a local service over http) is refused here on both counts.
      {
        id: 'p-local-service',
        point: 'check',
        url: 'http://127.0.0.1:8123/smoke',
        rules: [/must use https/, PRIVATE],
      },
    ];
    const published = await Promise.all(
      cases.map((c) =>
        stack.controller.publish(
          TOPICS.requests,
          stack.request(app, {
            rolloutId: c.id,
            hooks: { [c.point]: [{ name: 'hook', url: c.url }] } as RolloutRequestInput['hooks'],
          }),
        ),
      ),
    );
    for (const [i, c] of cases.entries()) {
      const field = `hooks.${c.point}[0].url`;
      const line = await rejection(stack, published[i] ?? '');
      expect(line.message, c.id).toContain(field);
      expect(line.fields, c.id).toMatchObject({ code: 'INVALID_REQUEST' });
      expect(line.fields['problems'], c.id).toEqual(
        c.rules.map((rule) => ({ field, rule: expect.stringMatching(rule) })),
      );
      expect(await stack.store.get(c.id), c.id).toBeNull();
      expect(eventsOf(stack, c.id), c.id).toEqual([]);
    }
    expect(JSON.stringify(stack.route(app))).toBe(before);
  }, 120_000);

  it('accepts an HTTPS hook on a public host', async () => {
    const app = stack.app('checkout');
    await stack.controller.publish(
      TOPICS.requests,
      stack.request(app, {
        rolloutId: 'p-public',
        steps: [
          { gate: 'manual', note: 'hold here' },
          { weight: 10, hold: '1h' },
        ],
        hooks: { postRollout: [{ name: 'notify', url: 'https://hooks.example.com/deploys' }] },
      }),
    );
    const r = await state(stack, 'p-public', (x) => x.status.phase === 'Paused', 'Paused at the gate');
    expect(r.plan.hooks?.postRollout?.map((h) => h.url)).toEqual(['https://hooks.example.com/deploys']);
  }, 120_000);
});
