/**
 * What `rolloutctl history` reads: every rollout, finished ones too, newest first, one page at a
 * time, each summed up as a line an operator scans (phase, routes, canary, when, how long, and
 * the reason of its last change).
 */
import { type HistoryEntry, isTerminal, type Phase, type Rollout } from '../core/state.ts';
import { routesOf } from '../core/targets.ts';
import type { PageCursor, RolloutQuery, RolloutStore } from '../ports/rollout-store.ts';
import { requireRouteName } from './ids.ts';

export interface RolloutSummary {
  readonly id: string;
  /** The final phase of a finished rollout, the current one otherwise. */
  readonly phase: Phase;
  readonly finished: boolean;
  /** Every route of the release, in the request's order. */
  readonly routes: readonly string[];
  readonly stable: string;
  readonly canary: string;
  /** Epoch milliseconds, as stored. */
  readonly createdAt: number;
  readonly updatedAt: number;
  /** When it reached its final phase; null while it is active. */
  readonly endedAt: number | null;
  /** From creation to its end, or to `now` while it is active. */
  readonly durationMs: number;
  readonly attempt: number;
  readonly retryOf: string | null;
  /** The event and reason of its last history entry. */
  readonly lastEvent: string | null;
  readonly lastReason: string | null;
}

export interface HistoryPage {
  readonly rollouts: readonly RolloutSummary[];
  /** Where the next page starts; null on the last page. */
  readonly next: PageCursor | null;
}

export function summarize(r: Rollout, history: readonly HistoryEntry[], now: number): RolloutSummary {
  const finished = isTerminal(r.status.phase);
  const ending = finished ? history.find((h) => isTerminal(h.to.phase)) : undefined;
  const endedAt = finished ? (ending?.at ?? r.updatedAt) : null;
  const last = history.at(-1);
  return {
    id: r.id,
    phase: r.status.phase,
    finished,
    routes: routesOf(r.spec),
    stable: r.spec.stable,
    canary: r.spec.canary,
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    endedAt,
    durationMs: Math.max(0, (endedAt ?? now) - r.createdAt),
    attempt: r.attempt,
    retryOf: r.retryOf,
    lastEvent: last?.event ?? null,
    lastReason: last?.reason ?? null,
  };
}

/** One page of rollouts matching `query`, newest first, each with its last history entry read. */
export async function rolloutHistory(
  store: RolloutStore,
  page: { readonly query: RolloutQuery; readonly limit: number; readonly after: PageCursor | null },
  now: number,
): Promise<HistoryPage> {
  if (page.query.route !== undefined) requireRouteName(page.query.route);
  const { items, next } = await store.list(page.query, page.limit, page.after);
  const rollouts = await Promise.all(items.map(async (r) => summarize(r, await store.history(r.id), now)));
  return { rollouts, next };
}
