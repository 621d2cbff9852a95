/**
 * Following rollouts by polling Firestore through the controller's own store: one document read
 * per rollout per poll, and the history only when the version moved. Polling (not a snapshot
 * listener) keeps the watch on the same decoding as every other command, needs only read access,
 * and behaves the same against Google and the local cloud.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { rolloutNotFound } from '../../functions/app/status.ts';
import { isTerminal, type Rollout } from '../../functions/core/state.ts';
import type { RolloutStore } from '../../functions/ports/rollout-store.ts';
import { type Outcome, outcomeOf } from './render.ts';
import type { WatchSink } from './sinks.ts';

export interface FollowOptions {
  readonly intervalMs: number;
  /** Epoch ms after which the watch gives up (null: never). */
  readonly deadline: number | null;
  /** Aborted on SIGINT/SIGTERM. */
  readonly signal: AbortSignal;
}

export type FollowEnd =
  | { readonly kind: 'ended'; readonly rollout: Rollout; readonly outcome: Outcome }
  | { readonly kind: 'timedOut' }
  | { readonly kind: 'interrupted' };

/** Waits `ms`, or less when the watch is interrupted; false when interrupted. */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return false;
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** One rollout as the watch last saw it. */
export class Tracked {
  readonly id: string;
  #version = 0;
  #ended = false;

  constructor(id: string) {
    this.id = id;
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Reads the rollout; tells the sink what changed and whether it ended. Null when there is no such rollout. */
  async poll(store: RolloutStore, sink: WatchSink): Promise<Rollout | null> {
    const r = await store.get(this.id);
    if (r === null || r.version === this.#version) return r;
    const history = await store.history(this.id);
    const fresh = history.filter((h) => h.version > this.#version && h.version <= r.version);
    this.#version = r.version;
    sink.change(r, history, fresh);
    const outcome = outcomeOf(r);
    if (outcome !== null && isTerminal(r.status.phase)) {
      this.#ended = true;
      sink.end(r, outcome, history);
    }
    return r;
  }
}

/**
 * Follows one rollout until it ends. An unknown rollout is ROLLOUT_NOT_FOUND at once, unless
 * `waitForIt` (start --watch: the controller has not created it yet) says when to give up waiting.
 */
export async function followOne(
  store: RolloutStore,
  id: string,
  sink: WatchSink,
  options: FollowOptions,
  waitForIt?: () => boolean,
): Promise<FollowEnd> {
  const tracked = new Tracked(id);
  for (;;) {
    const r = await tracked.poll(store, sink);
    if (r === null && !waitForIt?.()) throw rolloutNotFound(id);
    const outcome = r === null ? null : outcomeOf(r);
    if (r !== null && outcome !== null && tracked.ended) return { kind: 'ended', rollout: r, outcome };
    if (options.deadline !== null && Date.now() >= options.deadline) return { kind: 'timedOut' };
    if (!(await pause(options.intervalMs, options.signal))) return { kind: 'interrupted' };
  }
}

/** Follows every active rollout, and the ones that start, until interrupted (or the deadline). */
export async function followAll(
  store: RolloutStore,
  sink: WatchSink,
  options: FollowOptions,
): Promise<FollowEnd> {
  const tracked = new Map<string, Tracked>();
  for (;;) {
    for (const a of await store.findActive({})) {
      if (!tracked.has(a.rolloutId)) tracked.set(a.rolloutId, new Tracked(a.rolloutId));
    }
    for (const t of tracked.values()) if (!t.ended) await t.poll(store, sink);
    if (options.deadline !== null && Date.now() >= options.deadline) return { kind: 'timedOut' };
    if (!(await pause(options.intervalMs, options.signal))) return { kind: 'interrupted' };
  }
}
