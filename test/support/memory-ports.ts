/**
 * Small in-memory implementations of the ports, for unit tests of the executor only. They keep
 * the contracts the production adapters are held to by their own contract tests (version fence,
 * dedupe keys, route lock release, precondition on the read a write is built from); they are
 * never a stand-in for those adapters.
 */
import { LifecycleEvents } from '../../functions/app/lifecycle-events.ts';
import { createLogger } from '../../functions/app/log.ts';
import { RolloutExecutor } from '../../functions/app/rollout-executor.ts';
import { judgeFor } from '../../functions/core/analysis/select-judge.ts';
import type { BackendReading } from '../../functions/core/analysis/verdict.ts';
import { type OutboxEvent, outboxEventOf } from '../../functions/core/events.ts';
import type { HookBody, HookResult, HookStatus, PlanHook } from '../../functions/core/hooks.ts';
import {
  type Created,
  dequeueRollout,
  displaceSuperseder,
  queueRollout,
} from '../../functions/core/queue.ts';
import { lastSegment } from '../../functions/core/resource-name.ts';
import { splitOf } from '../../functions/core/routing/managed-rule.ts';
import { backendKey, type RouteSnapshot } from '../../functions/core/routing/snapshot.ts';
import { planEviction, planWrite, type WriteRequest } from '../../functions/core/routing/write-plan.ts';
import {
  type HistoryEntry,
  isTerminal,
  type OperationState,
  type Rollout,
  type RouteOperation,
} from '../../functions/core/state.ts';
import { primaryRoute, routesOf, targetsOf } from '../../functions/core/targets.ts';
import type { Weights } from '../../functions/core/weights.ts';
import type { EventPublisher } from '../../functions/ports/event-publisher.ts';
import type { HookCaller } from '../../functions/ports/hook-caller.ts';
import type { MetricsReader, TimeWindow } from '../../functions/ports/metrics-reader.ts';
import {
  type ActiveRollout,
  type CommitOutcome,
  type CreateOutcome,
  DuplicateMessageError,
  type Page,
  type PageCursor,
  type RolloutQuery,
  type RolloutStore,
  RouteLockedError,
  type RouteQueue,
  VersionConflictError,
  type WriteOptions,
} from '../../functions/ports/rollout-store.ts';
import {
  type OperationObserver,
  RouteError,
  type RouteWrite,
  type TrafficRouter,
} from '../../functions/ports/traffic-router.ts';
import { routeShowing } from './drive.ts';
import { backendName } from './fixtures.ts';

/** Compares two cursors element by element (numbers by value, strings by code unit). */
function compareCursors(a: PageCursor, b: PageCursor): number {
  for (let i = 0; i < Math.min(a.length, b.length); i += 1) {
    const x = a[i] as string | number;
    const y = b[i] as string | number;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** The items after `after` (by `key`, the order `sorted` is in), at most `limit` of them. */
function pageOf<T>(
  sorted: readonly T[],
  limit: number,
  after: PageCursor | null,
  key: (item: T) => PageCursor,
): Page<T> {
  const rest = after === null ? sorted : sorted.filter((item) => compareCursors(key(item), after) > 0);
  const items = rest.slice(0, limit);
  const last = items.at(-1);
  return { items, next: items.length < limit || last === undefined ? null : key(last) };
}

/** What the Firestore store's route lock of `route` says about its release. */
function activeRecordOf(r: Rollout, route: string): ActiveRollout {
  const targets = targetsOf(r.spec);
  const target = targets.find((t) => t.route === route);
  const source = r.plan.analysis.metrics.canary;
  return {
    rolloutId: r.id,
    route,
    routes: targets.map((t) => t.route),
    routeName: lastSegment(route),
    stableName: lastSegment(target?.stable ?? r.spec.stable),
    canaryName: lastSegment(target?.canary ?? r.spec.canary),
    canaryService: source.preset === 'cloudRun' ? source.service : null,
  };
}

const STABLE = backendName('checkout-stable');
const CANARY = backendName('checkout-canary');

export class MemoryStore implements RolloutStore {
  readonly rollouts = new Map<string, Rollout>();
  readonly entries = new Map<string, HistoryEntry[]>();
  readonly locks = new Map<string, string>();
  readonly processed = new Set<string>();
  /** The outbox: one event per history entry written, until marked published (by eventId). */
  readonly outbox = new Map<string, OutboxEvent>();
  /** Set to make the next commit fail as if the function died before it reached Firestore. */
  failNextCommit: Error | null = null;

  /** Per route: the rollouts waiting, first in line first (a superseder at the head). */
  readonly queues = new Map<string, string[]>();
  #seq = 0;

  async create(rollout: Rollout, entry: HistoryEntry, options: WriteOptions = {}): Promise<CreateOutcome> {
    const stored = this.rollouts.get(rollout.id);
    if (stored !== undefined) return { kind: 'exists', rollout: stored };
    const route = primaryRoute(rollout.spec);
    const holder = this.locks.get(route);
    if (rollout.spec.whenRouteBusy === 'reject') {
      // Every route of the release at once: one busy route refuses them all, nothing written.
      const routes = routesOf(rollout.spec);
      const busy = routes.find((r) => this.locks.has(r));
      if (busy !== undefined) throw new RouteLockedError(busy, this.locks.get(busy) ?? '');
      if (options.dedupeKey !== undefined) this.processed.add(options.dedupeKey);
      this.#put({ rollout, entry });
      for (const r of routes) this.locks.set(r, rollout.id);
      return { kind: 'created', rollout, entry };
    }
    if (options.dedupeKey !== undefined) this.processed.add(options.dedupeKey);
    if (holder === undefined) {
      this.#put({ rollout, entry });
      this.locks.set(route, rollout.id);
      return { kind: 'created', rollout, entry };
    }
    const queue = this.queues.get(route) ?? [];
    const supersede = rollout.spec.whenRouteBusy === 'supersede';
    const head = queue[0] === undefined ? undefined : this.rollouts.get(queue[0]);
    const waiting = supersede && head?.supersedes ? head.id : null;
    const displaced =
      waiting === null || head === undefined ? null : displaceSuperseder(head, rollout.id, entry.at);
    if (displaced !== null) this.#put(displaced, true);
    this.#seq += 1;
    const queued = queueRollout(
      { rollout, entry },
      { seq: this.#seq, holder, supersede, displaced: waiting },
    );
    this.#put(queued);
    const rest = queue.filter((id) => id !== waiting);
    this.queues.set(route, supersede ? [rollout.id, ...rest] : [...rest, rollout.id]);
    return { kind: 'created', rollout: queued.rollout, entry: queued.entry, displaced };
  }

  #put(created: Created, append = false): void {
    this.rollouts.set(created.rollout.id, created.rollout);
    if (append) this.entries.get(created.rollout.id)?.push(created.entry);
    else this.entries.set(created.rollout.id, [created.entry]);
    this.#enqueueEvent(created.rollout, created.entry);
  }

  /** The entry's event joins the outbox in the same (synchronous) write as the entry. */
  #enqueueEvent(r: Rollout, entry: HistoryEntry): void {
    const event = outboxEventOf(r, entry);
    this.outbox.set(event.eventId, event);
  }

  async pendingEvents(
    createdBefore: number,
    limit: number,
    after: PageCursor | null = null,
  ): Promise<Page<OutboxEvent>> {
    const key = (e: OutboxEvent): PageCursor => [e.createdAt, e.eventId];
    const pending = [...this.outbox.values()]
      .filter((e) => e.createdAt <= createdBefore)
      .sort((a, b) => compareCursors(key(a), key(b)));
    return pageOf(pending, limit, after, key);
  }

  async eventsPublished(eventIds: readonly string[]): Promise<void> {
    for (const id of eventIds) this.outbox.delete(id);
  }

  async routeQueue(route: string): Promise<RouteQueue> {
    const waiting = (this.queues.get(route) ?? []).map((rolloutId, i) => ({
      rolloutId,
      position: i + 1,
      supersedes: Boolean(this.rollouts.get(rolloutId)?.supersedes),
    }));
    return { route, holder: this.locks.get(route) ?? null, waiting };
  }

  async get(id: string): Promise<Rollout | null> {
    return this.rollouts.get(id) ?? null;
  }

  async commit(next: Rollout, entry: HistoryEntry, options: WriteOptions = {}): Promise<CommitOutcome> {
    const failure = this.failNextCommit;
    this.failNextCommit = null;
    if (failure !== null) throw failure;
    const stored = this.rollouts.get(next.id);
    if (options.dedupeKey !== undefined && this.processed.has(options.dedupeKey)) {
      throw new DuplicateMessageError(options.dedupeKey);
    }
    if (stored?.version !== next.version - 1) throw new VersionConflictError(next.id, next.version);
    this.rollouts.set(next.id, next);
    this.entries.get(next.id)?.push(entry);
    this.#enqueueEvent(next, entry);
    if (options.dedupeKey !== undefined) this.processed.add(options.dedupeKey);
    if (!isTerminal(next.status.phase) || isTerminal(entry.from.phase)) return { handedOff: null };
    const handed = routesOf(next.spec).flatMap((route) => {
      const { handedOff } = this.#release(next, entry.at, route);
      return handedOff === null ? [] : [handedOff];
    });
    const [first, ...more] = handed;
    return { handedOff: first ?? null, ...(more.length > 0 ? { alsoHandedOff: more } : {}) };
  }

  /** The route's lock passes to the first rollout waiting (made Pending), or is released. */
  #release(ended: Rollout, at: number, route: string): CommitOutcome {
    const queue = (this.queues.get(route) ?? []).filter((id) => id !== ended.id);
    this.queues.set(route, queue);
    if (this.locks.get(route) !== ended.id) return { handedOff: null };
    const head = queue[0] === undefined ? undefined : this.rollouts.get(queue[0]);
    if (head === undefined) {
      this.locks.delete(route);
      return { handedOff: null };
    }
    const handedOff = dequeueRollout(head, ended, at);
    this.#put(handedOff, true);
    this.locks.set(route, head.id);
    this.queues.set(route, queue.slice(1));
    return { handedOff };
  }

  async history(id: string): Promise<HistoryEntry[]> {
    return [...(this.entries.get(id) ?? [])];
  }

  async due(now: number, limit: number, after: PageCursor | null = null): Promise<Page<Rollout>> {
    const due = [...this.rollouts.values()]
      .filter((r) => !isTerminal(r.status.phase) && r.nextActionAt !== null && r.nextActionAt <= now)
      .sort((a, b) => compareCursors([a.nextActionAt ?? 0, a.id], [b.nextActionAt ?? 0, b.id]));
    return pageOf(due, limit, after, (r) => [r.nextActionAt ?? 0, r.id]);
  }

  async waiting(limit: number, after: PageCursor | null = null): Promise<Page<Rollout>> {
    const waiting = [...this.rollouts.values()]
      .filter((r) => r.status.phase === 'ActionRequired')
      .sort((a, b) => compareCursors([a.id], [b.id]));
    return pageOf(waiting, limit, after, (r) => [r.id]);
  }

  async list(query: RolloutQuery, limit: number, after: PageCursor | null = null): Promise<Page<Rollout>> {
    const key = (r: Rollout): PageCursor => [r.createdAt, r.id];
    const newestFirst = [...this.rollouts.values()]
      .filter((r) => query.route === undefined || routesOf(r.spec).includes(query.route))
      .filter((r) => query.since === undefined || r.createdAt >= query.since)
      .sort((a, b) => compareCursors(key(b), key(a)));
    const rest = after === null ? newestFirst : newestFirst.filter((r) => compareCursors(key(r), after) < 0);
    const items = rest.slice(0, limit);
    const last = items.at(-1);
    return { items, next: items.length < limit || last === undefined ? null : key(last) };
  }

  async findActive(
    match: Partial<Pick<ActiveRollout, 'rolloutId' | 'routeName' | 'canaryName' | 'canaryService'>> = {},
  ): Promise<ActiveRollout[]> {
    const found = new Map<string, ActiveRollout>();
    for (const [route, id] of this.locks) {
      const r = this.rollouts.get(id);
      if (r === undefined || found.has(id)) continue;
      const record = activeRecordOf(r, route);
      const fits = Object.entries(match).every(
        ([field, value]) => value === undefined || record[field as keyof ActiveRollout] === value,
      );
      if (fits) found.set(id, record);
    }
    return [...found.values()];
  }

  async hasProcessed(key: string): Promise<boolean> {
    return this.processed.has(key);
  }

  readonly operations = new Map<string, RouteOperation & { state: OperationState }>();
  readonly claims = new Map<string, { token: string; claimedAt: number }>();

  async claimDriverStart(
    rolloutId: string,
    token: string,
    now: number,
    staleAfterMs: number,
  ): Promise<boolean> {
    const held = this.claims.get(rolloutId);
    if (held !== undefined && held.claimedAt > now - staleAfterMs) return false;
    this.claims.set(rolloutId, { token, claimedAt: now });
    return true;
  }

  async releaseDriverStart(rolloutId: string, token: string): Promise<void> {
    if (this.claims.get(rolloutId)?.token === token) this.claims.delete(rolloutId);
  }

  async recordOperation(operation: RouteOperation): Promise<void> {
    if (!this.operations.has(operation.name))
      this.operations.set(operation.name, { ...operation, state: 'pending' });
  }

  async settleOperation(name: string, state: Exclude<OperationState, 'pending'>): Promise<void> {
    const op = this.operations.get(name);
    if (op !== undefined) this.operations.set(name, { ...op, state });
  }

  async pendingOperations(rolloutId: string): Promise<RouteOperation[]> {
    return [...this.operations.values()].filter((op) => op.rolloutId === rolloutId && op.state === 'pending');
  }

  async strayOperations(
    startedBefore: number,
    limit: number,
    after: PageCursor | null = null,
  ): Promise<Page<RouteOperation>> {
    const strays = [...this.operations.values()]
      .filter((op) => op.state === 'pending' && op.startedAt <= startedBefore)
      .sort((a, b) => compareCursors([a.startedAt, a.name], [b.startedAt, b.name]));
    return pageOf(strays, limit, after, (op) => [op.startedAt, op.name]);
  }
}

/**
 * Routes whose rule 0 splits between the fixtures' stable and canary, counting reads and writes.
 * Without names it is one route, answering for any name (`route`, `weights`); with names, each
 * route is its own (`routeOf`, `weightsOf`, `setWeights`), and a name it does not hold is not found.
 */
export class MemoryRouter implements TrafficRouter {
  readonly routes = new Map<string, RouteSnapshot>();
  updates = 0;
  readonly reads: string[] = [];
  readonly writes: { weights: Weights; precondition: Weights | null }[] = [];
  /** Every write that passed its precondition, with the route it was for, in order. */
  readonly routeWrites: { route: string; weights: Weights }[] = [];
  /** While set, a write that passed its precondition waits here before it lands (a slow operation). */
  hold: Promise<void> | null = null;
  /** Called before a write is sent (throw here to play a function that dies before it writes). */
  beforeWrite: ((route: string) => void) | null = null;
  /** Called once a write has landed, before the call returns (to play a function that dies then). */
  afterWrite: ((route: string) => void) | null = null;
  readonly #named: boolean;

  constructor(weights: Weights, names: readonly string[] = []) {
    this.#named = names.length > 0;
    for (const name of this.#named ? names : ['']) this.routes.set(name, routeShowing(weights));
  }

  #key(route: string): string {
    if (!this.#named) return '';
    if (!this.routes.has(route)) throw new RouteError('notFound', `route ${route} not found`, 'create it');
    return route;
  }

  /** The route (of a router of one route, or the first of several). */
  get route(): RouteSnapshot {
    return this.routes.values().next().value as RouteSnapshot;
  }

  set route(snapshot: RouteSnapshot) {
    this.routes.set(this.routes.keys().next().value as string, snapshot);
  }

  routeOf(name: string): RouteSnapshot {
    return this.routes.get(this.#key(name)) as RouteSnapshot;
  }

  weightsOf(name: string): Weights | null {
    const rule = this.routeOf(name).rules[0];
    return rule === undefined
      ? null
      : splitOf(rule, { stable: STABLE, canary: CANARY, hint: 0, shape: null });
  }

  /** Sets a route's split as a person would, with a new updateTime. */
  setWeights(name: string, weights: Weights): void {
    this.updates += 1;
    this.routes.set(this.#key(name), routeShowing(weights, [], `t${this.updates}`));
  }

  get weights(): Weights | null {
    return this.weightsOf(this.routes.keys().next().value as string);
  }

  /** Sets the split as a person would, with a new updateTime. */
  set weights(weights: Weights) {
    this.setWeights(this.routes.keys().next().value as string, weights);
  }

  async read(route: string): Promise<RouteSnapshot> {
    this.reads.push(route);
    return this.routeOf(route);
  }

  /** The next write's operation outlives the wait: `apply` fails, and the write lands only when `land` is called. */
  timeoutNext = false;
  /** Cancellation is best effort at Google: when set, a cancel request changes nothing. */
  ignoreCancel = false;
  readonly operations = new Map<string, { state: OperationState; land: () => void }>();

  async apply(route: string, request: WriteRequest, observer?: OperationObserver): Promise<RouteWrite> {
    const key = this.#key(route);
    const before = this.routeOf(route);
    const plan = planWrite(before, request);
    if (plan.kind === 'skip') return { written: false, route: before, before, concurrent: [] };
    this.beforeWrite?.(route);
    this.writes.push({ weights: request.weights, precondition: request.precondition });
    this.routeWrites.push({ route, weights: request.weights });
    const name = `projects/p/locations/global/operations/op-${this.operations.size + 1}`;
    const op = { state: 'pending' as OperationState, land: () => {} };
    op.land = () => {
      if (op.state !== 'pending') return;
      op.state = 'done';
      this.#write(key, plan);
    };
    this.operations.set(name, op);
    await observer?.started(name);
    if (this.timeoutNext) {
      this.timeoutNext = false;
      throw new RouteError(
        'transient',
        `operation ${name} did not finish in time (still running)`,
        'it may still land',
      );
    }
    const hold = this.hold;
    this.hold = null;
    if (hold !== null) await hold;
    op.land();
    this.afterWrite?.(route);
    await observer?.finished(name, 'done');
    return { written: true, route: this.routeOf(route), before, concurrent: [] };
  }

  async takeOut(route: string, canary: string): Promise<{ written: boolean; left: readonly number[] }> {
    const key = this.#key(route);
    const eviction = planEviction(this.routeOf(route), canary);
    for (const edit of eviction.edits) this.#write(key, { kind: 'write', ...edit });
    return { written: eviction.edits.length > 0, left: eviction.left };
  }

  /** Lands a write whose operation outlived its wait (as a slow Google operation would, later). */
  land(name: string): void {
    this.operations.get(name)?.land();
  }

  async settle(name: string): Promise<OperationState> {
    const op = this.operations.get(name);
    if (op === undefined) return 'done';
    if (op.state === 'pending' && !this.ignoreCancel) op.state = 'cancelled';
    return op.state;
  }

  #write(key: string, plan: Extract<ReturnType<typeof planWrite>, { kind: 'write' }>): void {
    this.updates += 1;
    const current = this.routes.get(key) as RouteSnapshot;
    const rules = current.rules.map((rule, i) =>
      i !== plan.ruleIndex
        ? rule
        : {
            ...rule,
            destinations: plan.destinations.map((d) => ({
              name: d.name,
              backend: backendKey(d.name),
              weight: d.weight,
              extras: '{}',
            })),
          },
    );
    this.routes.set(key, { ...current, rules, updateTime: `t${this.updates}` });
  }
}

export class MemoryMetrics implements MetricsReader {
  readonly reads: TimeWindow[] = [];
  readonly readings: { stable: BackendReading; canary: BackendReading };

  constructor(readings: { stable: BackendReading; canary: BackendReading }) {
    this.readings = readings;
  }

  async read(source: { preset: string; service?: string }, window: TimeWindow): Promise<BackendReading> {
    this.reads.push(window);
    return source.service?.endsWith('canary') ? this.readings.canary : this.readings.stable;
  }
}

export class MemoryPublisher implements EventPublisher {
  readonly published: { topic: string; data: unknown }[] = [];
  /** Messages published already encoded, as sent. */
  readonly encoded: { topic: string; json: string; attributes: Readonly<Record<string, string>> }[] = [];

  async publish(topic: string, data: unknown): Promise<string> {
    this.published.push({ topic, data });
    return String(this.published.length);
  }

  async publishEncoded(
    topic: string,
    json: string,
    attributes: Readonly<Record<string, string>> = {},
  ): Promise<string> {
    this.encoded.push({ topic, json, attributes });
    return `encoded-${this.encoded.length}`;
  }
}

/** What a scripted hook answers: a status (code and excerpt made up from it) or a whole result. */
export type HookAnswer = HookStatus | (Pick<HookResult, 'status'> & Partial<HookResult>);

/**
 * Hooks whose results are scripted per hook name: each call takes the next answer, the last one
 * repeats (unscripted hooks pass). Records every call with its body; `delayMs` per hook makes a
 * call take that long (real time); `onReturn` runs just before a call returns.
 */
export class MemoryHookCaller implements HookCaller {
  readonly calls: { hook: string; body: Omit<HookBody, 'attempt'> }[] = [];
  readonly #answers = new Map<string, HookAnswer[]>();
  readonly delayMs = new Map<string, number>();
  onReturn: ((hook: string) => void) | null = null;

  constructor(answers: Readonly<Record<string, readonly HookAnswer[]>> = {}) {
    for (const [hook, list] of Object.entries(answers)) this.script(hook, ...list);
  }

  script(hook: string, ...answers: HookAnswer[]): void {
    this.#answers.set(hook, [...answers]);
  }

  callsOf(hook: string): number {
    return this.calls.filter((c) => c.hook === hook).length;
  }

  async call(hook: PlanHook, body: Omit<HookBody, 'attempt'>): Promise<HookResult> {
    this.calls.push({ hook: hook.name, body });
    const queue = this.#answers.get(hook.name) ?? [];
    const answer = (queue.length > 1 ? queue.shift() : queue[0]) ?? 'passed';
    const delay = this.delayMs.get(hook.name) ?? 0;
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    this.onReturn?.(hook.name);
    const given = typeof answer === 'string' ? { status: answer } : answer;
    const code = given.status === 'passed' ? 200 : given.status === 'failed' ? 500 : null;
    return {
      point: body.kind,
      hook: hook.name,
      code,
      excerpt: given.status === 'passed' ? '' : `${given.status} answer`,
      attempts: 1,
      durationMs: delay,
      ...given,
    };
  }
}

/** The production executor over in-memory ports, on a test clock, with silent logs and the production judge. */
export function memoryExecutor(ports: {
  readonly store: MemoryStore;
  readonly router: TrafficRouter;
  readonly metrics: MetricsReader;
  readonly publisher?: EventPublisher;
  readonly hooks?: HookCaller;
  readonly clock: { readonly now: number };
}): RolloutExecutor {
  const log = createLogger({}, () => {});
  const publisher = ports.publisher ?? new MemoryPublisher();
  const hooks = ports.hooks;
  return new RolloutExecutor({
    store: ports.store,
    router: async () => ports.router,
    metrics: async () => ports.metrics,
    ...(hooks === undefined ? {} : { hooks: async () => hooks }),
    judgeFor,
    events: new LifecycleEvents(async () => publisher, 'rollout-events', log, ports.store),
    clock: () => ports.clock.now,
    log,
  });
}
