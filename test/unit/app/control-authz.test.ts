/**
 * control under an authorization policy (memory ports): every command is authorized on the
 * rollout's routes before anything changes; a refusal leaves the rollout and its history as they
 * were; an allowed command records the caller in its history entry.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../functions/app/config.ts';
import {
  type ControlDeps,
  control,
  type OperatorCommand,
  parseControl,
} from '../../../functions/app/control.ts';
import { createLogger } from '../../../functions/app/log.ts';
import type { AuthzPolicy } from '../../../functions/core/authz.ts';
import type { Caller } from '../../../functions/core/caller.ts';
import type { Rollout } from '../../../functions/core/state.ts';
import { ALL_STABLE } from '../../../functions/core/weights.ts';
import { type ControllerError, ForbiddenError } from '../../../functions/errors.ts';
import { backendName, newRollout, routeName } from '../../support/fixtures.ts';
import { MemoryMetrics, MemoryRouter, MemoryStore, memoryExecutor } from '../../support/memory-ports.ts';

const SHOP = routeName('shop-web');
const BANK = routeName('bank');
const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);

const POLICY: AuthzPolicy = {
  grants: [
    {
      principals: ['topic:rollout-control'],
      routes: ['projects/demo-project/locations/global/httpRoutes/shop-*'],
      commands: ['pause', 'abort'],
    },
    { principals: ['user:lead@example.com'], routes: ['*'], commands: ['promote', 'retry'] },
    { principals: ['user:boss@example.com'], routes: ['*'], commands: ['promote', 'overrideHooks'] },
  ],
};

const topic: Caller = { kind: 'topic', topic: 'rollout-control', claimed: 'ann' };
const verified = (email: string): Caller => ({
  kind: 'verified',
  email,
  checkedBy: 'cloudRun',
  claimed: null,
});

function setup(rollouts: readonly { rollout: Rollout; entry: Parameters<MemoryStore['create']>[1] }[]) {
  const store = new MemoryStore();
  const router = new MemoryRouter(ALL_STABLE);
  const healthy = { kind: 'data', requests: 1000, errors: 1, latency: null } as const;
  const metrics = new MemoryMetrics({ stable: healthy, canary: healthy });
  const clock = { now: T0 };
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const retries: { id: string; caller: Caller | undefined }[] = [];
  const deps: ControlDeps = {
    store,
    executor: memoryExecutor({ store, router, metrics, clock }),
    router: async () => router,
    config: {
      ...loadConfig({
        GOOGLE_CLOUD_PROJECT: 'demo-project',
        ALLOWED_ROUTES: 'projects/demo-project/locations/global/httpRoutes/*',
      }),
      authz: POLICY,
    },
    log,
    groups: null,
    startRetry: async (_body, id, _attempt, _retryOf, _actor, caller) => {
      retries.push({ id, caller });
      return { id, phase: 'Pending', version: 1 };
    },
  };
  const seed = Promise.all(rollouts.map(({ rollout, entry }) => store.create(rollout, entry)));
  const send = async (body: Record<string, unknown>, caller: Caller | undefined): Promise<unknown> => {
    await seed;
    const request = parseControl({ actor: 'ann', ...body });
    const command: OperatorCommand = caller === undefined ? { request } : { request, caller };
    return control(deps, command).catch((e: unknown) => e);
  };
  const state = async () => ({
    rollouts: structuredClone([...store.rollouts.entries()]),
    entries: structuredClone([...store.entries.entries()]),
  });
  return { store, router, deps, send, state, lines, retries };
}

const shop = () => newRollout('shop-1', { route: SHOP, canary: backendName('shop-canary') }, T0);
const bank = () => newRollout('bank-1', { route: BANK, canary: backendName('bank-canary') }, T0);

describe('control: authorization', () => {
  it('a command the caller holds on the route runs, and its history entry names the caller', async () => {
    const { send, store } = setup([shop()]);
    const result = await send({ rolloutId: 'shop-1', command: 'abort', reason: 'bad' }, topic);
    expect(result).not.toBeInstanceOf(Error);
    const history = await store.history('shop-1');
    const byCommand = history.filter((h) => h.input === 'control');
    expect(byCommand).toHaveLength(1);
    expect(byCommand[0]?.caller).toEqual(topic);
    expect(history.filter((h) => h.input !== 'control' && h.caller !== undefined)).toEqual([]);
  });

  it('a command the caller does not hold is refused before anything changes', async () => {
    const { send, state, lines } = setup([shop()]);
    const before = await state();
    const error = await send({ rolloutId: 'shop-1', command: 'promote' }, topic);
    expect(error).toBeInstanceOf(ForbiddenError);
    expect((error as ForbiddenError).principals).toEqual(['topic:rollout-control']);
    expect(await state()).toEqual(before);
    expect(lines.filter((l) => l['severity'] === 'WARNING')).toHaveLength(1);
  });

  it('a route outside the grant is refused', async () => {
    const { send, state } = setup([bank()]);
    const before = await state();
    expect(await send({ rolloutId: 'bank-1', command: 'pause' }, topic)).toBeInstanceOf(ForbiddenError);
    expect(await state()).toEqual(before);
  });

  it('no caller at all is refused', async () => {
    const { send } = setup([shop()]);
    expect(await send({ rolloutId: 'shop-1', command: 'pause' }, undefined)).toBeInstanceOf(ForbiddenError);
  });

  it('a promote over a confirmPromotion hook also needs overrideHooks', async () => {
    const hooked = newRollout(
      'gated-1',
      { route: SHOP, hooks: { confirmPromotion: [{ name: 'cab', url: 'https://cab.example.com/ok' }] } },
      T0,
    );
    const { send, state } = setup([hooked]);
    const before = await state();
    const lead = await send({ rolloutId: 'gated-1', command: 'promote' }, verified('lead@example.com'));
    expect(lead).toBeInstanceOf(ForbiddenError);
    expect((lead as ForbiddenError).message).toContain('may not overrideHooks');
    expect(await state()).toEqual(before);
    const boss = await send({ rolloutId: 'gated-1', command: 'promote' }, verified('boss@example.com'));
    expect(boss).not.toBeInstanceOf(Error);
  });

  it('a promote without a confirmPromotion hook needs promote only', async () => {
    const { send } = setup([shop()]);
    const lead = await send({ rolloutId: 'shop-1', command: 'promote' }, verified('lead@example.com'));
    expect(lead).not.toBeInstanceOf(Error);
  });

  it('an unknown rollout: not found for a caller holding the command somewhere, refused for one holding it nowhere', async () => {
    const { send } = setup([]);
    const found = await send({ rolloutId: 'nope', command: 'pause' }, topic);
    expect((found as ControllerError).code).toBe('ROLLOUT_NOT_FOUND');
    const hidden = await send({ rolloutId: 'nope', command: 'resume' }, topic);
    expect((hidden as ControllerError).code).toBe('FORBIDDEN');
    expect((hidden as ControllerError).message).not.toContain('nope');
  });

  it('retry needs retry on the rollout routes and carries the operator through to the new rollout', async () => {
    const { send, retries } = setup([shop()]);
    await send({ rolloutId: 'shop-1', command: 'abort' }, topic);
    expect(await send({ rolloutId: 'shop-1', command: 'retry' }, topic)).toBeInstanceOf(ForbiddenError);
    expect(retries).toEqual([]);
    const lead = verified('lead@example.com');
    const result = await send({ rolloutId: 'shop-1', command: 'retry' }, lead);
    expect(result).toMatchObject({ applied: true, newRolloutId: 'shop-1-retry2' });
    expect(retries).toEqual([{ id: 'shop-1-retry2', caller: lead }]);
  });

  it('an abort naming route and canary is authorized on the route it names before the store is read', async () => {
    const { send, store } = setup([shop()]);
    let reads = 0;
    const get = store.get.bind(store);
    store.get = async (id) => {
      reads += 1;
      return get(id);
    };
    const named = { rolloutId: 'shop-1', command: 'abort', route: BANK, canary: backendName('bank-canary') };
    expect(await send(named, topic)).toBeInstanceOf(ForbiddenError);
    expect(reads).toBe(0);
  });

  it('an abort naming an allowed route is still refused on a rollout of another route', async () => {
    const { send, state } = setup([bank()]);
    const before = await state();
    const named = { rolloutId: 'bank-1', command: 'abort', route: SHOP, canary: backendName('bank-canary') };
    expect(await send(named, topic)).toBeInstanceOf(ForbiddenError);
    expect(await state()).toEqual(before);
  });
});
