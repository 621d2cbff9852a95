/**
 * startRollout under an authorization policy (memory ports): the publisher must be allowed
 * `start` (a retry: `retry`) on every route of the request, else it is refused (onRefused, code
 * FORBIDDEN) and nothing is created; the first history entry records the caller and requestedBy.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../functions/app/config.ts';
import { LifecycleEvents } from '../../../functions/app/lifecycle-events.ts';
import { createLogger } from '../../../functions/app/log.ts';
import { startRollout } from '../../../functions/app/start-rollout.ts';
import type { AuthzPolicy } from '../../../functions/core/authz.ts';
import type { Caller } from '../../../functions/core/caller.ts';
import type { RolloutRequestInput } from '../../../functions/core/request.ts';
import { ALL_STABLE } from '../../../functions/core/weights.ts';
import { type ControllerError, ForbiddenError } from '../../../functions/errors.ts';
import { requestInput, routeName } from '../../support/fixtures.ts';
import {
  MemoryMetrics,
  MemoryPublisher,
  MemoryRouter,
  MemoryStore,
  memoryExecutor,
} from '../../support/memory-ports.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const POLICY: AuthzPolicy = {
  grants: [
    {
      principals: ['topic:rollout-requests'],
      routes: ['projects/demo-project/locations/global/httpRoutes/shop-*'],
      commands: ['start'],
    },
    { principals: ['user:lead@example.com'], routes: ['*'], commands: ['retry'] },
  ],
};
const requests = (claimed: string | null): Caller => ({ kind: 'topic', topic: 'rollout-requests', claimed });

function setup() {
  const store = new MemoryStore();
  const router = new MemoryRouter(ALL_STABLE);
  const healthy = { kind: 'data', requests: 1000, errors: 1, latency: null } as const;
  const metrics = new MemoryMetrics({ stable: healthy, canary: healthy });
  const publisher = new MemoryPublisher();
  const log = createLogger({}, () => {});
  const events = new LifecycleEvents(async () => publisher, 'rollout-events', log, store);
  const config = {
    ...loadConfig({
      GOOGLE_CLOUD_PROJECT: 'demo-project',
      ALLOWED_ROUTES: 'projects/demo-project/locations/global/httpRoutes/*',
    }),
    authz: POLICY,
  };
  const deps = {
    store,
    router: async () => router,
    executions: async () => {
      throw new Error('a scheduler-driven rollout starts no execution');
    },
    executor: memoryExecutor({ store, router, metrics, publisher, clock: { now: T0 } }),
    events,
    config,
    clock: () => T0,
    log,
  };
  const refusals: ControllerError[] = [];
  const start = (overrides: Partial<RolloutRequestInput>, caller: Caller, retryOf?: string) =>
    startRollout(deps, {
      body: requestInput({ rolloutId: 'r1', driver: 'scheduler', ...overrides }),
      messageId: 'm1',
      actor: 'pubsub:m1',
      caller,
      ...(retryOf === undefined ? {} : { retryOf, attempt: 2 }),
      onRefused: async (error) => {
        refusals.push(error);
      },
    }).catch((e: unknown) => e);
  return { store, publisher, start, refusals };
}

describe('startRollout: authorization', () => {
  it('a start on a route the publisher may start on is created; its first entry records caller and requestedBy', async () => {
    const { start, store } = setup();
    const outcome = await start({ route: routeName('shop-web'), requestedBy: 'ci-42' }, requests('ci-42'));
    expect(outcome).toMatchObject({ kind: 'created' });
    const [first] = await store.history('r1');
    expect(first).toMatchObject({
      event: 'rollout.created',
      requestedBy: 'ci-42',
      caller: requests('ci-42'),
    });
  });

  it('a start on a route outside the policy is refused (FORBIDDEN) and creates nothing', async () => {
    const { start, store, refusals, publisher } = setup();
    const error = await start({ route: routeName('bank') }, requests(null));
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(refusals.map((r) => r.code)).toEqual(['FORBIDDEN']);
    expect(store.rollouts.size).toBe(0);
    expect(store.locks.size).toBe(0);
    expect(publisher.published).toEqual([]);
  });

  it('every route of a release must be allowed', async () => {
    const { start, store } = setup();
    const targets = [{ route: routeName('shop-web') }, { route: routeName('bank') }];
    const error = await start({ route: undefined, targets }, requests(null));
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(store.rollouts.size).toBe(0);
  });

  it('a retry is authorized as retry for the operator who asked, and recorded as theirs', async () => {
    const { start, store } = setup();
    const lead: Caller = {
      kind: 'verified',
      email: 'lead@example.com',
      checkedBy: 'cloudRun',
      claimed: null,
    };
    expect(await start({ route: routeName('bank') }, requests(null), 'r0')).toBeInstanceOf(ForbiddenError);
    expect(await start({ route: routeName('bank') }, lead, 'r0')).toMatchObject({ kind: 'created' });
    const [first] = await store.history('r1');
    expect(first?.caller).toEqual(lead);
  });
});
