/**
 * The outbox: an event whose publish after its commit failed stays in the store and the drain
 * sends it later, with its stable eventId, in (rolloutId, version) order, a bounded number per
 * call, never one younger than the grace; a published event leaves the outbox.
 */
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../functions/app/config.ts';
import { LifecycleEvents } from '../../../functions/app/lifecycle-events.ts';
import { createLogger } from '../../../functions/app/log.ts';
import { drainOutbox } from '../../../functions/app/outbox.ts';
import type { LifecycleEvent } from '../../../functions/core/events.ts';
import { rejectedEvent } from '../../../functions/core/rejected-event.ts';
import { TransientError } from '../../../functions/errors.ts';
import { due } from '../../support/drive.ts';
import { newRollout, routeName } from '../../support/fixtures.ts';
import {
  MemoryMetrics,
  MemoryPublisher,
  MemoryRouter,
  MemoryStore,
  memoryExecutor,
} from '../../support/memory-ports.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const S = 1000;
const GATE_FIRST = [{ gate: 'manual', note: 'look first' } as const, { weight: 50, hold: '2m' } as const];

function world() {
  const store = new MemoryStore();
  const publisher = new MemoryPublisher();
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const events = new LifecycleEvents(async () => publisher, 'rollout-events', log, store);
  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: 'p',
    ALLOWED_ROUTES: 'projects/p/locations/global/httpRoutes/*',
    OUTBOX_GRACE_SECONDS: '10',
  });
  const deps = { store, events, config, log };
  const sent = () => publisher.published.map((m) => m.data as LifecycleEvent);
  return { store, publisher, lines, events, deps, sent };
}

async function createAt(store: MemoryStore, id: string, at: number): Promise<void> {
  const { rollout, entry } = newRollout(
    id,
    { driver: 'scheduler', route: routeName(id), steps: GATE_FIRST },
    at,
  );
  await store.create(rollout, entry);
}

describe('the outbox', () => {
  it('a publish that fails leaves the event in the outbox and the change stored; the drain sends it once', async () => {
    const w = world();
    const down = new MemoryPublisher();
    down.publish = async () => {
      throw new Error('events topic unreachable');
    };
    const clock = { now: T0 };
    const router = new MemoryRouter({ stable: 100, canary: 0 });
    const healthy = { kind: 'data', requests: 1000, errors: 1, latency: null } as const;
    const metrics = new MemoryMetrics({ stable: healthy, canary: healthy });
    const executor = memoryExecutor({ store: w.store, router, metrics, publisher: down, clock });
    for (const id of ['b', 'a']) {
      await createAt(w.store, id, T0);
      const result = await executor.run(id, due());
      expect(result?.rollout.status.phase).toBe('Paused');
    }
    expect([...w.store.outbox.keys()].sort()).toEqual(['a.v1', 'a.v2', 'b.v1', 'b.v2']);

    const report = await drainOutbox(w.deps, T0 + 11 * S);
    expect(report).toEqual({ found: 4, published: 4, left: 0, more: false });
    expect(w.sent().map((e) => e.eventId)).toEqual(['a.v1', 'a.v2', 'b.v1', 'b.v2']);
    expect(w.sent().map((e) => [e.type, e.version])).toEqual([
      ['rollout.created', 1],
      ['rollout.paused', 2],
      ['rollout.created', 1],
      ['rollout.paused', 2],
    ]);
    expect(w.store.outbox.size).toBe(0);
    expect(await drainOutbox(w.deps, T0 + 120 * S)).toMatchObject({ found: 0, published: 0 });
    expect(w.publisher.published).toHaveLength(4);
  });

  it('publishing an event takes it out of the outbox, with its eventId as an attribute', async () => {
    const w = world();
    const { rollout, entry } = newRollout('c', { route: routeName('c') }, T0);
    await w.store.create(rollout, entry);
    const attributes: Record<string, string>[] = [];
    const publish = w.publisher.publish.bind(w.publisher);
    w.publisher.publish = async (topic, data, attrs?: Readonly<Record<string, string>>) => {
      attributes.push({ ...attrs });
      return publish(topic, data);
    };
    await w.events.publish(rollout, entry);
    expect(w.store.outbox.size).toBe(0);
    expect(attributes).toEqual([
      { rolloutId: 'c', type: 'rollout.created', phase: 'Pending', eventId: 'c.v1' },
    ]);
    expect(await drainOutbox(w.deps, T0 + 60 * S)).toMatchObject({ found: 0 });
  });

  it('leaves events younger than the grace to the publisher still at work', async () => {
    const w = world();
    await createAt(w.store, 'young', T0);
    expect(await drainOutbox(w.deps, T0 + 9 * S)).toMatchObject({ found: 0, published: 0 });
    expect(w.store.outbox.size).toBe(1);
    expect(await drainOutbox(w.deps, T0 + 10 * S)).toMatchObject({ found: 1, published: 1 });
  });

  it('handles a bounded number per call, oldest first, and leaves the rest for the next', async () => {
    const w = world();
    for (let i = 0; i < 25; i += 1) await createAt(w.store, `r${String(i).padStart(2, '0')}`, T0 + i);
    const limits = { page: 4, max: 10 };
    const now = T0 + 60 * S;
    expect(await drainOutbox(w.deps, now, limits)).toEqual({ found: 10, published: 10, left: 0, more: true });
    expect(w.store.outbox.size).toBe(15);
    expect(await drainOutbox(w.deps, now, limits)).toEqual({ found: 10, published: 10, left: 0, more: true });
    expect(await drainOutbox(w.deps, now, limits)).toEqual({ found: 5, published: 5, left: 0, more: false });
    const ids = w.sent().map((e) => e.rolloutId);
    expect(new Set(ids).size).toBe(25);
    // Each call takes the oldest waiting events: the first ten created went out first.
    expect(ids.slice(0, 10).sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `r${String(i).padStart(2, '0')}`),
    );
  });

  it('an event it cannot publish holds back the later events of its rollout, not the others', async () => {
    const w = world();
    await createAt(w.store, 'a', T0);
    await createAt(w.store, 'b', T0);
    const a = w.store.rollouts.get('a');
    const entry = w.store.entries.get('a')?.[0];
    if (a === undefined || entry === undefined) throw new Error('a was created');
    const next = { ...a, version: 2, updatedAt: T0 + 1 };
    await w.store.commit(next, { ...entry, version: 2, at: T0 + 1, event: 'rollout.paused' });
    const publish = w.publisher.publish.bind(w.publisher);
    w.publisher.publish = async (topic, data) => {
      if ((data as LifecycleEvent).eventId === 'a.v1') throw new Error('refused');
      return publish(topic, data);
    };
    expect(await drainOutbox(w.deps, T0 + 60 * S)).toEqual({ found: 3, published: 1, left: 2, more: false });
    expect(w.sent().map((e) => e.eventId)).toEqual(['b.v1']);
    expect(w.lines.some((l) => l['severity'] === 'ERROR' && l['eventId'] === 'a.v1')).toBe(true);
    w.publisher.publish = publish;
    expect(await drainOutbox(w.deps, T0 + 120 * S)).toMatchObject({ published: 2 });
    expect(w.sent().map((e) => e.eventId)).toEqual(['b.v1', 'a.v1', 'a.v2']);
  });

  it('a rollout.rejected event that cannot be published makes the request redelivered (same eventId)', async () => {
    const w = world();
    w.publisher.publish = async () => {
      throw new TransientError('unavailable', { code: 'PUBLISH_UNAVAILABLE', hint: 'retry' });
    };
    const event = rejectedEvent({
      requestMessageId: 'm-1',
      rolloutId: null,
      routes: [],
      at: T0,
      code: 'INVALID_REQUEST',
      message: 'bad',
      hint: 'fix it',
    });
    expect(event.eventId).toBe('rejected.m-1');
    await expect(w.events.publishRejected(event)).rejects.toMatchObject({ code: 'EVENT_NOT_PUBLISHED' });
  });
});
