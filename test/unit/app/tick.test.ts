/**
 * The tick's fan-out: which rollouts it hands out, one message per (rollout, version) however
 * often its queries return it, every page read, and a failed publish left to the next tick.
 */
import { describe, expect, it } from 'vitest';
import { advanceDue } from '../../../functions/app/advance-due.ts';
import { parseAdvance } from '../../../functions/app/advance-message.ts';
import { loadConfig } from '../../../functions/app/config.ts';
import { eligibleForTick, planDue, planOperations } from '../../../functions/app/fan-out.ts';
import { LifecycleEvents } from '../../../functions/app/lifecycle-events.ts';
import { createLogger } from '../../../functions/app/log.ts';
import { RolloutExecutor } from '../../../functions/app/rollout-executor.ts';
import { eachPage, tick } from '../../../functions/app/tick.ts';
import { judgeFor } from '../../../functions/core/analysis/select-judge.ts';
import type { Rollout, RouteOperation } from '../../../functions/core/state.ts';
import type { Page, PageCursor } from '../../../functions/ports/rollout-store.ts';
import { newRollout, routeName } from '../../support/fixtures.ts';
import { MemoryPublisher, MemoryStore } from '../../support/memory-ports.ts';

const T0 = Date.UTC(2026, 11, 1, 12, 0, 0);
const GATE_FIRST = [{ gate: 'manual', note: 'look first' } as const, { weight: 50, hold: '2m' } as const];

function rollout(
  id: string,
  driver: 'scheduler' | 'workflow',
  nextActionAt: number | null,
  version = 1,
): Rollout {
  return { ...newRollout(id, { driver, route: routeName(id) }, T0).rollout, nextActionAt, version };
}

describe('eligibleForTick', () => {
  const now = 1_000_000;
  const grace = 120_000;

  it('takes scheduler-driven rollouts at once and workflow-driven ones only past the grace period', () => {
    const cases: [Rollout, number][] = [
      [rollout('sched-just-due', 'scheduler', now), now],
      [rollout('wf-just-due', 'workflow', now - 1), now - 1],
      [rollout('wf-almost-overdue', 'workflow', now - grace + 1), now - grace + 1],
      [rollout('wf-overdue', 'workflow', now - grace), now - grace],
      [rollout('wf-long-overdue', 'workflow', now - 10 * grace), now - 10 * grace],
    ];
    expect(cases.filter(([r, since]) => eligibleForTick(r, since, now, grace)).map(([r]) => r.id)).toEqual([
      'sched-just-due',
      'wf-overdue',
      'wf-long-overdue',
    ]);
    expect(cases.filter(([r, since]) => eligibleForTick(r, since, now, 0))).toHaveLength(cases.length);
  });
});

describe('planDue', () => {
  it('one message per rollout and version, each carrying its rollout; a repeat is not sent again', () => {
    const seen = new Set<string>();
    const a = rollout('a', 'scheduler', T0);
    const b = rollout('b', 'workflow', T0);
    const first = planDue([a, b], (r) => r.driver.kind === 'scheduler', seen, 'scheduler');
    expect(first.messages.map((m) => m.rolloutId)).toEqual(['a']);
    expect(first.skipped).toBe(1);
    expect(parseAdvance(Buffer.from(first.messages[0]?.data ?? ''))).toMatchObject({
      rollout: a,
      version: 1,
    });
    // Found again on a later page (or by the waiting query): same version, not sent twice.
    const again = planDue([a, { ...a, version: 2 }], () => true, seen, 'scheduler');
    expect(again.repeated).toBe(1);
    expect(again.messages.map((m) => JSON.parse(m.data).version)).toEqual([2]);
  });
});

describe('planOperations', () => {
  const op = (rolloutId: string, name: string, startedAt: number): RouteOperation => ({
    name,
    rolloutId,
    route: routeName(rolloutId),
    intentId: 2,
    weights: { stable: 90, canary: 10 },
    startedAt,
  });

  it('one message per rollout with its operations oldest first', () => {
    const plan = planOperations(
      [op('a', 'a2', 20), op('b', 'b1', 5), op('a', 'a1', 10)],
      new Set(),
      'scheduler',
    );
    expect(
      plan.messages.map((m) => {
        const parsed = parseAdvance(Buffer.from(m.data));
        return parsed.kind === 'operations' ? [parsed.rolloutId, parsed.operations.map((o) => o.name)] : null;
      }),
    ).toEqual([
      ['a', ['a1', 'a2']],
      ['b', ['b1']],
    ]);
  });
});

describe('eachPage', () => {
  it('handles every page in order, fetching the next one while the last is handled', async () => {
    const pages = [[1, 2], [3, 4], [5]];
    const fetched: (PageCursor | null)[] = [];
    const handled: number[][] = [];
    await eachPage(
      async (after): Promise<Page<number>> => {
        fetched.push(after);
        const i = after === null ? 0 : Number(after[0]);
        return { items: pages[i] ?? [], next: i + 1 < pages.length ? [i + 1] : null };
      },
      async (items) => {
        handled.push([...items]);
      },
    );
    expect(handled).toEqual(pages);
    expect(fetched).toEqual([null, [1], [2]]);
  });
});

function world(batch: number) {
  const store = new MemoryStore();
  const publisher = new MemoryPublisher();
  const lines: Record<string, unknown>[] = [];
  const log = createLogger({}, (line) => lines.push(JSON.parse(line) as Record<string, unknown>));
  const clock = { now: T0 + 1000 };
  const config = loadConfig({
    GOOGLE_CLOUD_PROJECT: 'p',
    ALLOWED_ROUTES: 'projects/p/locations/global/httpRoutes/*',
    TICK_BATCH: String(batch),
  });
  const events = new LifecycleEvents(async () => publisher, 'rollout-events', log, store);
  const executor = new RolloutExecutor({
    store,
    router: async () => {
      throw new Error('no route is touched');
    },
    metrics: async () => {
      throw new Error('no metrics are read');
    },
    judgeFor,
    events,
    clock: () => clock.now,
    log,
  });
  const runTick = () =>
    tick(
      { store, publisher: async () => publisher, events, config, clock: () => clock.now, log },
      { actor: 'scheduler' },
    );
  const advanceMessages = () =>
    publisher.encoded
      .filter((m) => m.topic === 'rollout-advance')
      .map((m) => parseAdvance(Buffer.from(m.json)));
  return { store, publisher, lines, clock, executor, runTick, advanceMessages };
}

async function createDue(store: MemoryStore, n: number): Promise<void> {
  for (let i = 0; i < n; i += 1) {
    const id = `due-${String(i).padStart(3, '0')}`;
    const { rollout: r, entry } = newRollout(
      id,
      { driver: 'scheduler', route: routeName(id), steps: GATE_FIRST },
      T0,
    );
    await store.create(r, entry);
  }
}

describe('tick', () => {
  it('reads every page and hands each due rollout out once, carrying its copy', async () => {
    const w = world(3);
    await createDue(w.store, 10);
    const report = await w.runTick();
    expect(report).toEqual({ due: 10, published: 10, failed: 0, skipped: 0 });
    const messages = w.advanceMessages();
    expect(messages.map((m) => m.rolloutId).sort()).toEqual([...w.store.rollouts.keys()].sort());
    for (const m of messages)
      expect(m.kind === 'due' ? m.rollout : null).toEqual(w.store.rollouts.get(m.rolloutId));
    expect(w.publisher.encoded.every((m) => m.attributes['rolloutId'] !== undefined)).toBe(true);
  });

  it('each message advances its rollout once, without reading it, however often it is delivered', async () => {
    const w = world(4);
    await createDue(w.store, 6);
    await w.runTick();
    let reads = 0;
    const get = w.store.get.bind(w.store);
    w.store.get = async (id) => {
      reads += 1;
      return get(id);
    };
    const messages = w.advanceMessages();
    const first = await Promise.all(messages.map((m) => advanceDue(w, m)));
    expect(first.map((o) => [o?.transitions, o?.phase, o?.version])).toEqual(
      messages.map(() => [1, 'Paused', 2]),
    );
    expect(reads).toBe(0);
    const again = await Promise.all(messages.map((m) => advanceDue(w, m)));
    // Recognised by the message's key: no second advance, and no read to find that out.
    expect(again.map((o) => [o?.duplicate, o?.transitions])).toEqual(messages.map(() => [true, 0]));
    expect(reads).toBe(0);
    for (const id of w.store.rollouts.keys()) expect((await w.store.history(id)).length).toBe(2);
  });

  it('a failed publish is logged with its rollout and counted; the others still go out', async () => {
    const w = world(2);
    await createDue(w.store, 3);
    const publish = w.publisher.publishEncoded.bind(w.publisher);
    w.publisher.publishEncoded = async (topic, json, attributes) => {
      if (attributes?.['rolloutId'] === 'due-001') throw new Error('topic gone');
      return publish(topic, json, attributes);
    };
    const report = await w.runTick();
    expect(report).toEqual({ due: 3, published: 2, failed: 1, skipped: 0 });
    expect(w.lines.filter((l) => l['severity'] === 'ERROR').map((l) => l['rolloutId'])).toEqual(['due-001']);
  });

  it('leaves a workflow-driven rollout to its workflow until it is overdue', async () => {
    const w = world(10);
    const { rollout: r, entry } = newRollout('wf', { driver: 'workflow', steps: GATE_FIRST }, T0);
    await w.store.create(r, entry);
    expect(await w.runTick()).toMatchObject({ due: 1, published: 0, skipped: 1 });
    w.clock.now = T0 + 121_000;
    expect(await w.runTick()).toMatchObject({ due: 1, published: 1, skipped: 0 });
  });
});
