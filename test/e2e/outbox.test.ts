/**
 * Events never lost: a crash between the commit and the publish of every change. The production
 * executor drives rollouts through every kind of transition the core makes, storing each change in
 * Firestore (emulator) with its outbox event; the publish that follows each commit is lost (the
 * function "dies" before it reaches Pub/Sub). Recovery is the production tick handler on the
 * production runtime: its outbox drain re-sends what was lost. A subscription on the events topic
 * (Pub/Sub emulator) then holds exactly one published message per history version, each with its
 * stable eventId — none missing, none twice.
 */
import { type Message, PubSub } from '@google-cloud/pubsub';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { FirestoreRolloutStore } from '../../functions/adapters/firestore-store.ts';
import { PubSubPublisher } from '../../functions/adapters/pubsub-publisher.ts';
import { loadConfig } from '../../functions/app/config.ts';
import { LifecycleEvents } from '../../functions/app/lifecycle-events.ts';
import { createLogger } from '../../functions/app/log.ts';
import { RolloutExecutor } from '../../functions/app/rollout-executor.ts';
import { judgeFor } from '../../functions/core/analysis/select-judge.ts';
import { eventIdOf, type LifecycleEvent, type OutboxEvent } from '../../functions/core/events.ts';
import type { ControlCommand, Input } from '../../functions/core/inputs.ts';
import type { RolloutRequestInput } from '../../functions/core/request.ts';
import { type EventType, isTerminal, type Rollout, type RouteOperation } from '../../functions/core/state.ts';
import { primaryRoute } from '../../functions/core/targets.ts';
import { tickHandler } from '../../functions/handlers/tick.ts';
import { TOPICS } from '../../functions/manifest.ts';
import type { EventPublisher } from '../../functions/ports/event-publisher.ts';
import type { Page, PageCursor } from '../../functions/ports/rollout-store.ts';
import { RouteError } from '../../functions/ports/traffic-router.ts';
import { createRuntime } from '../../functions/wiring.ts';
import { cloudEventOf } from '../../local/pubsub-delivery.ts';
import { testFirestore } from '../support/firestore.ts';
import { newRollout, routeName } from '../support/fixtures.ts';
import type { HookAnswer } from '../support/memory-ports.ts';
import { MemoryHookCaller, MemoryMetrics, MemoryRouter } from '../support/memory-ports.ts';

const PROJECT = 'e2e-outbox';
const SUBSCRIPTION = 'outbox-deliveries';
/** Simulated time runs in the past, so the recovery (at the real time) finds every event past the grace. */
// A fixed instant (not derived from the wall clock), so window boundaries, and with them the
// walk's path, are the same on every run.
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const S = 1000;
const MIN = 60 * S;
const URL = 'https://hooks.example.com/h';
/** Rounds of new rollouts, and how many random acts each rollout gets per round. */
const ROUNDS = 3;
const ACTS = 30;

/** Every transition kind (the compiler checks this lists every EventType). */
const EVERY_EVENT: Record<EventType, true> = {
  'rollout.created': true,
  'rollout.driver_attached': true,
  'rollout.weights_applying': true,
  'rollout.weights_retrying': true,
  'rollout.weights_live': true,
  'rollout.weights_restoring': true,
  'rollout.weights_restored': true,
  'rollout.route_edited': true,
  'rollout.edit_overwritten': true,
  'rollout.command_overtaken': true,
  'rollout.analysis': true,
  'rollout.paused': true,
  'rollout.resumed': true,
  'rollout.promoting': true,
  'rollout.succeeded': true,
  'rollout.rolling_back': true,
  'rollout.action_required': true,
  'rollout.rolled_back': true,
  'rollout.aborted': true,
  'rollout.failed': true,
  'rollout.alert_closed': true,
  'rollout.aborting': true,
  'rollout.stepping_down': true,
  'rollout.hook_passed': true,
  'rollout.hook_failed': true,
  'rollout.hook_inconclusive': true,
  'rollout.hook_notified': true,
  'rollout.deadline_passed': true,
  'rollout.gate_timed_out': true,
  'rollout.stalled': true,
  'rollout.queued': true,
  'rollout.dequeued': true,
  'rollout.superseded': true,
};

/**
 * Kinds this test does not reach, and why. `rollout.edit_overwritten` needs a route write that
 * Network Services reports as having overwritten a concurrent edit (`concurrent` in the write's
 * result); the in-memory router never reports one. Its commit is the same plain batch as every
 * other non-terminal change (the store never looks at the event type), which this test covers.
 */
const NOT_DRIVEN: readonly EventType[] = ['rollout.edit_overwritten'];

/** Deterministic pseudo-random numbers (mulberry32), so a failure replays. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The request shapes the walk starts rollouts with: gates, deadlines, stalls, hooks of every point. */
const SHAPES: readonly Partial<RolloutRequestInput>[] = [
  {},
  {
    steps: [{ gate: 'manual' }, { weight: 20, hold: '1m' }, { weight: 60, hold: '1m' }],
    gateTimeout: { after: '5m', action: 'notify' },
  },
  { deadline: { after: '4m', action: 'notify' }, stalledAfter: '2m' },
  { deadline: { after: '3m', action: 'rollback' } },
  {
    hooks: {
      preRollout: [{ name: 'smoke', url: URL }],
      preStep: [{ name: 'gate', url: URL, failAfter: '1m', onFailure: 'pause' }],
      postRollout: [{ name: 'notify', url: URL }],
      onRollback: [{ name: 'page', url: URL }],
    },
  },
  { hooks: { check: [{ name: 'check', url: URL }] } },
];
/** Routes of the scripted scenarios (late writes, a gradual abort). */
const SCRIPTED = ['late', 'edited', 'gradual', 'operated', 'prefail'] as const;

const HOOK_ANSWERS: readonly HookAnswer[] = ['passed', 'passed', 'failed', 'inconclusive', 'timeout'];
const HEALTHY = { kind: 'data', requests: 1000, errors: 1, latency: null } as const;
const COMMANDS: readonly ControlCommand[] = ['pause', 'resume', 'promote', 'abort', 'retry'];

const fs = testFirestore(PROJECT);
const store = new FirestoreRolloutStore(fs.db);
let pubsub: PubSub;
/** Each published message on the events topic: its message id and eventId attribute. */
const deliveries: { messageId: string; eventId: string; event: LifecycleEvent }[] = [];

beforeAll(async () => {
  process.env['PUBSUB_EMULATOR_HOST'] = inject('pubsubHost');
  await fs.clear();
  pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: inject('pubsubHost') });
  for (const topic of [TOPICS.advance, TOPICS.events]) {
    const [exists] = await pubsub.topic(topic).exists();
    if (!exists) await pubsub.createTopic(topic);
  }
  const [sub] = await pubsub.topic(TOPICS.events).createSubscription(SUBSCRIPTION);
  sub.on('message', (m: Message) => {
    const event = JSON.parse(m.data.toString('utf8')) as LifecycleEvent;
    deliveries.push({ messageId: m.id, eventId: String(m.attributes['eventId']), event });
    m.ack();
  });
});

afterAll(async () => {
  await pubsub.subscription(SUBSCRIPTION).close();
  await pubsub.close();
  await fs.close();
});

/** Pub/Sub for real, except that the first publish of each event never happens: the function died first. */
class CrashBeforePublish implements EventPublisher {
  readonly #real: EventPublisher;
  readonly lost = new Set<string>();
  constructor(real: EventPublisher) {
    this.#real = real;
  }
  async publish(topic: string, data: unknown, attributes: Readonly<Record<string, string>> = {}) {
    const id = attributes['eventId'];
    if (id !== undefined && !this.lost.has(id)) {
      this.lost.add(id);
      throw new Error(`the function died after committing ${id}, before publishing it`);
    }
    return this.#real.publish(topic, data, attributes);
  }
  publishEncoded(topic: string, json: string, attributes?: Readonly<Record<string, string>>) {
    return this.#real.publishEncoded(topic, json, attributes);
  }
}

function world() {
  const crash = new CrashBeforePublish(new PubSubPublisher(PROJECT));
  const log = createLogger({}, () => {});
  const clock = { now: T0 };
  const names = SHAPES.map((_, i) => routeName(`app-${i}`));
  const scripted = SCRIPTED.map((name) => routeName(name));
  const router = new MemoryRouter({ stable: 100, canary: 0 }, [...names, ...scripted]);
  const metrics = new MemoryMetrics({ stable: { ...HEALTHY, requests: 9000 }, canary: HEALTHY });
  const hooks = new MemoryHookCaller();
  const events = new LifecycleEvents(async () => crash, TOPICS.events, log, store);
  // Route operation records stored only once `recorded` resolves (a slow Firestore write), when set.
  const slow: { recorded: Promise<void> | null } = { recorded: null };
  const slowStore = new Proxy(store, {
    get(target, key) {
      if (key === 'recordOperation') {
        return async (op: RouteOperation) => {
          if (slow.recorded !== null) await slow.recorded;
          return target.recordOperation(op);
        };
      }
      const value: unknown = Reflect.get(target, key);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const executor = new RolloutExecutor({
    store: slowStore,
    router: async () => router,
    metrics: async () => metrics,
    hooks: async () => hooks,
    judgeFor,
    events,
    clock: () => clock.now,
    log,
  });
  return { crash, clock, router, metrics, hooks, events, executor, names, slow, errors: 1 };
}

type World = ReturnType<typeof world>;

/** Creates a rollout as startRollout does: store it (with its outbox event), then publish. */
async function start(
  w: World,
  id: string,
  shape: number,
  whenRouteBusy: RolloutRequestInput['whenRouteBusy'],
) {
  const overrides = { ...SHAPES[shape], route: w.names[shape], whenRouteBusy };
  const { rollout, entry } = newRollout(id, overrides, w.clock.now);
  const outcome = await store.create(rollout, entry);
  if (outcome.kind !== 'created') return;
  await w.events.publish(outcome.rollout, outcome.entry ?? entry);
  if (outcome.displaced) await w.events.publish(outcome.displaced.rollout, outcome.displaced.entry);
}

/** One random thing a driver, an operator, an alert, a person at the route or the world does. */
async function act(w: World, id: string, rnd: () => number): Promise<void> {
  const pick = <T>(list: readonly T[]): T => list[Math.floor(rnd() * list.length)] as T;
  const r = await store.get(id);
  // A finished rollout still puts a late write of its own right; most of the time it is left alone.
  if (r === null || (isTerminal(r.status.phase) && rnd() < 0.8)) return;
  const route = primaryRoute(r.spec);
  const roll = rnd();
  let input: Input = { type: 'due', actor: 'workflow:e1' };
  if (roll < 0.35) w.clock.now += Math.floor(rnd() * 60 * S);
  else if (roll < 0.5) {
    const command = pick(COMMANDS);
    const gradual = command === 'abort' && rnd() < 0.5 ? { holdMs: MIN } : null;
    // Now and then a command issued a while ago arrives only now (it may have been overtaken).
    const issuedAt = rnd() < 0.3 ? { issuedAt: w.clock.now - 5 * MIN } : {};
    input = { type: 'control', actor: 'operator:ann', command, note: 'walk', gradual, ...issuedAt };
  } else if (roll < 0.57) {
    const state = rnd() < 0.6 ? 'open' : 'closed';
    const incident = { incidentId: `i-${id}`, state, policy: 'p', condition: 'c', summary: 's' } as const;
    input = { type: 'alert', actor: 'alert:p', incident };
  } else if (roll < 0.65) {
    const canary = pick([0, 5, 33, 100]);
    w.router.setWeights(route, { stable: 100 - canary, canary });
  } else if (roll < 0.71) {
    let failures = 1 + Math.floor(rnd() * 2);
    const kind = pick(['transient', 'transient', 'permissionDenied'] as const);
    w.router.beforeWrite = () => {
      failures -= 1;
      if (failures >= 0) throw new RouteError(kind, `HTTPRoute update: ${kind}`, 'as Google answers');
    };
  } else if (roll < 0.78) {
    w.errors = pick([1, 1, 400]);
  } else if (roll < 0.86) {
    for (const hook of ['smoke', 'gate', 'notify', 'page', 'check']) w.hooks.script(hook, pick(HOOK_ANSWERS));
  } else if (roll < 0.93) {
    // A route operation that outlives the wait lands later: a late write the rollout must put right.
    if (rnd() < 0.5) w.router.timeoutNext = true;
    else for (const name of w.router.operations.keys()) w.router.land(name);
  } else if (roll < 0.96) {
    input = { type: 'driverAttached', actor: 'workflow:e1', execution: `exec-${Math.floor(rnd() * 3)}` };
  }
  traffic(w, route);
  await w.executor.run(id, input).catch((error: unknown) => {
    // A transient route failure that outlives the executor's retries: the next driver goes on.
    if (!(error instanceof RouteError)) throw error;
  });
}

/** The metrics show the split the route gives (10,000 requests a window), the canary with `w.errors` of its share. */
function traffic(w: World, route: string): void {
  const weights = w.router.weightsOf(route) ?? { stable: 100, canary: 0 };
  const canary = {
    ...HEALTHY,
    requests: weights.canary * 100,
    errors: Math.min(w.errors, weights.canary * 100),
  };
  w.metrics.readings.stable = { ...HEALTHY, requests: weights.stable * 100 };
  w.metrics.readings.canary = canary;
}

/** Drives a rollout with due inputs, 30 s apart, until `done` (at most 40 times). */
async function advance(w: World, id: string, done: (r: Rollout) => boolean): Promise<void> {
  for (let i = 0; i < 40; i += 1) {
    const r = await store.get(id);
    if (r === null || done(r)) return;
    w.clock.now += 30 * S;
    traffic(w, primaryRoute(r.spec));
    await w.executor.run(id, { type: 'due', actor: 'workflow:e1' });
  }
}

const ABORT: Input = { type: 'control', command: 'abort', actor: 'operator:ann', note: 'bad build' };

/**
 * A step write still in flight when an operator aborts, its operation record not yet stored; it
 * lands after the rollback: the rollout restores stable (or, when `edit` sets the route by hand
 * before the restore is written, leaves the person's edit alone).
 */
async function lateWrite(w: World, name: (typeof SCRIPTED)[number], edit: boolean): Promise<void> {
  const route = routeName(name);
  const { rollout, entry } = newRollout(name, { route }, w.clock.now);
  await store.create(rollout, entry);
  await w.events.publish(rollout, entry);
  let land = () => {};
  w.router.hold = new Promise((resolve) => {
    land = resolve;
  });
  let stored = () => {};
  w.slow.recorded = new Promise((resolve) => {
    stored = resolve;
  });
  const writes = w.router.writes.length;
  const slow = w.executor.run(name, { type: 'start', actor: 'workflow:e1' });
  await expect.poll(() => w.router.writes.length).toBe(writes + 1);
  await w.executor.run(name, ABORT);
  stored();
  w.slow.recorded = null;
  if (edit) {
    const apply = w.router.apply.bind(w.router);
    w.router.apply = async (at, request, observer) => {
      w.router.apply = apply;
      w.router.setWeights(at, { stable: 60, canary: 40 });
      return apply(at, request, observer);
    };
  }
  land();
  await slow;
}

/** An operator's gradual abort from 50 %: stepping the canary down through the lower steps. */
async function gradualAbort(w: World): Promise<void> {
  const steps = [
    { weight: 10, hold: '1m' },
    { weight: 30, hold: '1m' },
    { weight: 50, hold: '1m' },
    { weight: 80, hold: '1m' },
  ];
  // Its check hook is inconclusive once, fails once (below its failure limit), then passes.
  w.hooks.script('probe', 'inconclusive', 'failed', 'passed');
  const hooks = { check: [{ name: 'probe', url: URL, failureLimit: 3 }] };
  const { rollout, entry } = newRollout(
    'gradual',
    { route: routeName('gradual'), steps, hooks },
    w.clock.now,
  );
  await store.create(rollout, entry);
  await w.events.publish(rollout, entry);
  await advance(w, 'gradual', (r) => r.weights.canary >= 50 || isTerminal(r.status.phase));
  const gradual = { holdMs: MIN };
  await w.executor.run('gradual', { ...ABORT, gradual } as Input);
  await advance(w, 'gradual', (r) => isTerminal(r.status.phase));
}

/** Every eventId waiting in the outbox. */
async function pendingIds(): Promise<string[]> {
  const ids: string[] = [];
  let after: PageCursor | null = null;
  do {
    const page: Page<OutboxEvent> = await store.pendingEvents(Date.now(), 100, after);
    ids.push(...page.items.map((e) => e.eventId));
    after = page.next;
  } while (after !== null);
  return ids.sort();
}

/**
 * An operator pauses a live step and resumes it; then Network Services refuses the next step's
 * write (permission denied): a person must act.
 */
async function operated(w: World): Promise<void> {
  const route = routeName('operated');
  const { rollout, entry } = newRollout('operated', { route }, w.clock.now);
  await store.create(rollout, entry);
  await w.events.publish(rollout, entry);
  await advance(w, 'operated', (r) => r.weights.canary > 0 || isTerminal(r.status.phase));
  const command = (c: ControlCommand): Input => ({
    type: 'control',
    actor: 'operator:ann',
    command: c,
    note: 'look',
  });
  await w.executor.run('operated', { type: 'driverAttached', actor: 'workflow:e1', execution: 'exec-1' });
  await w.executor.run('operated', command('pause'));
  await w.executor.run('operated', command('resume'));
  // A resume issued before the rollout moved on arrives late: overtaken.
  await w.executor.run('operated', { ...command('resume'), issuedAt: w.clock.now - 10 * MIN } as Input);
  const closed = {
    incidentId: 'i-1',
    state: 'closed',
    policy: 'p',
    condition: 'c',
    summary: 'recovered',
  } as const;
  await w.executor.run('operated', { type: 'alert', actor: 'alert:p', incident: closed });
  w.router.beforeWrite = () => {
    w.router.beforeWrite = null;
    throw new RouteError('permissionDenied', 'HTTPRoute update: permission denied', 'grant the role');
  };
  await advance(w, 'operated', (r) => r.status.phase === 'ActionRequired' || isTerminal(r.status.phase));
  // A preRollout hook that fails: the rollout ends Failed before any traffic moves.
  w.hooks.script('pre', 'failed');
  const hooks = { preRollout: [{ name: 'pre', url: URL }] };
  const failing = newRollout('prefail', { route: routeName('prefail'), hooks }, w.clock.now);
  await store.create(failing.rollout, failing.entry);
  await w.events.publish(failing.rollout, failing.entry);
  await advance(w, 'prefail', (r) => isTerminal(r.status.phase));
}

async function historyIds(ids: readonly string[]): Promise<{ ids: string[]; types: Set<EventType> }> {
  const all: string[] = [];
  const types = new Set<EventType>();
  for (const id of ids) {
    for (const h of await store.history(id)) {
      all.push(eventIdOf(id, h.version));
      types.add(h.event);
    }
  }
  return { ids: all.sort(), types };
}

describe('a crash between commit and publish', () => {
  it('every event is delivered exactly once per eventId after recovery, over every transition kind', async () => {
    const w = world();
    const rnd = random(20_261_201);
    await lateWrite(w, 'late', false);
    await lateWrite(w, 'edited', true);
    await gradualAbort(w);
    await operated(w);
    const ids: string[] = [...SCRIPTED];
    for (let round = 0; round < ROUNDS; round += 1) {
      // One rollout per request shape, each on its own route; in the first round a route also
      // gets one that waits in its queue, one that supersedes and one that displaces that superseder.
      const busy = (shape: number) =>
        round === 0 && shape === 0
          ? (['queue', 'queue', 'supersede', 'supersede'] as const)
          : (['queue'] as const);
      for (const [shape] of SHAPES.entries()) {
        for (const when of busy(shape)) {
          const id = `r${round}-s${shape}-${ids.length}`;
          ids.push(id);
          await start(w, id, shape, when);
        }
      }
      for (let i = 0; i < ACTS; i += 1) {
        for (const id of ids) await act(w, id, rnd);
      }
    }
    const history = await historyIds(ids);
    const missingKinds = Object.keys(EVERY_EVENT).filter(
      (t) => !history.types.has(t as EventType) && !NOT_DRIVEN.includes(t as EventType),
    );
    expect(missingKinds).toEqual([]);
    // Every event's first publish was lost: nothing reached the topic, everything waits in the outbox.
    expect([...w.crash.lost].sort()).toEqual(history.ids);
    expect(deliveries).toEqual([]);
    expect(await pendingIds()).toEqual(history.ids);

    // Recovery: the production tick (every minute in production) drains the outbox.
    const rt = createRuntime(
      loadConfig({
        GOOGLE_CLOUD_PROJECT: PROJECT,
        ALLOWED_ROUTES: `projects/${PROJECT}/locations/global/httpRoutes/*`,
        FIRESTORE_EMULATOR_HOST: fs.host,
      }),
      createLogger({}, () => {}),
    );
    for (let tick = 0; tick < 20 && (await store.pendingEvents(Date.now(), 1)).items.length > 0; tick += 1) {
      const message = {
        id: `tick-${tick}`,
        data: Buffer.from('{}'),
        attributes: {},
        publishTime: new Date(),
      };
      await tickHandler(rt)(cloudEventOf(message, PROJECT, TOPICS.tick));
    }
    expect((await store.pendingEvents(Date.now(), 10)).items).toEqual([]);
    await expect
      .poll(() => deliveries.length, { timeout: 60_000 })
      .toBeGreaterThanOrEqual(history.ids.length);
    await new Promise((resolve) => setTimeout(resolve, 1500)); // anything more would arrive right behind

    // Exactly one published message per eventId (a redelivery of one message has the same message id).
    const published = new Map<string, Set<string>>();
    for (const d of deliveries)
      published.set(d.eventId, (published.get(d.eventId) ?? new Set()).add(d.messageId));
    expect([...published.keys()].sort()).toEqual(history.ids);
    expect([...published.values()].filter((messages) => messages.size !== 1)).toEqual([]);
    for (const d of deliveries) expect(d.event.eventId).toBe(d.eventId);
  });
});
