/**
 * GroupMembership over a one-group check, with what every directory lookup needs around it:
 * answers cached per (email, group) for a short time (members longer than non-members), a
 * bounded cache, concurrent asks for one pair sharing one call, several groups checked in
 * parallel (a bounded number at a time) and the whole answer bounded in time.
 *
 * Consequence of the cache (docs/security.md#groups): a member removed from a group keeps what
 * the group grants for up to `positiveMs`; one added waits up to `negativeMs`. A failed check is
 * never cached and never counts as membership: the whole answer rejects (retryable).
 */
import { ControllerError, TransientError } from '../errors.ts';
import type { GroupMembership } from '../ports/group-membership.ts';

/** Whether `email` is in the group with email `group` (directly or nested); rejects when unknown. */
export type MembershipCheck = (email: string, group: string) => Promise<boolean>;

export interface MembershipCacheOptions {
  /** How long "is a member" is reused; default 5 min. */
  readonly positiveMs?: number;
  /** How long "is not a member" (or "this group grants nothing") is reused; default 1 min. */
  readonly negativeMs?: number;
  /** Most (email, group) answers kept; the oldest go first. Default 10,000. */
  readonly maxEntries?: number;
  /** Checks running at once for one answer; default 8. */
  readonly concurrency?: number;
  /** The whole answer must come within this; default 10 s. */
  readonly deadlineMs?: number;
  readonly clock?: () => number;
}

const GROUP_PREFIX = 'group:';

/** A map whose entries expire, holding at most `max` (insertion order: the oldest is dropped). */
export class TtlCache<K, V> {
  readonly #entries = new Map<K, { readonly value: V; readonly expiresAt: number }>();
  readonly #max: number;
  readonly #clock: () => number;

  constructor(max: number, clock: () => number) {
    this.#max = max;
    this.#clock = clock;
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: K): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    if (this.#clock() < entry.expiresAt) return entry.value;
    this.#entries.delete(key);
    return undefined;
  }

  set(key: K, value: V, ttlMs: number): void {
    this.#entries.delete(key);
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next();
      if (oldest.done === true) break;
      this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, { value, expiresAt: this.#clock() + ttlMs });
  }
}

/** Runs `work` over `items`, at most `limit` at a time; rejects with the first failure. */
async function inBatches<T, R>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<R>,
): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let i = next++; i < items.length; i = next++) results[i] = await work(items[i] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function asRetryable(error: unknown): ControllerError {
  if (error instanceof ControllerError) return error;
  return new TransientError(`group membership could not be checked: ${(error as Error).message}`, {
    code: 'GROUPS_UNAVAILABLE',
    hint: 'the group directory could not be asked; retried automatically',
    cause: error,
  });
}

export class CachingGroupMembership implements GroupMembership {
  readonly #check: MembershipCheck;
  readonly #positiveMs: number;
  readonly #negativeMs: number;
  readonly #concurrency: number;
  readonly #deadlineMs: number;
  readonly #answers: TtlCache<string, boolean>;
  readonly #inFlight = new Map<string, Promise<boolean>>();

  constructor(check: MembershipCheck, options: MembershipCacheOptions = {}) {
    this.#check = check;
    this.#positiveMs = options.positiveMs ?? 5 * 60_000;
    this.#negativeMs = options.negativeMs ?? 60_000;
    this.#concurrency = Math.max(1, options.concurrency ?? 8);
    this.#deadlineMs = options.deadlineMs ?? 10_000;
    this.#answers = new TtlCache(options.maxEntries ?? 10_000, options.clock ?? (() => Date.now()));
  }

  async memberOf(email: string, groups: readonly string[]): Promise<string[]> {
    const who = email.toLowerCase();
    const asked = [...new Set(groups)].filter((g) => g.toLowerCase().startsWith(GROUP_PREFIX));
    if (asked.length === 0) return [];
    const answers = await this.#withinDeadline(
      inBatches(asked, this.#concurrency, (group) =>
        this.#answer(who, group.slice(GROUP_PREFIX.length).toLowerCase()),
      ),
    );
    return asked.filter((_, i) => answers[i] === true);
  }

  #answer(email: string, group: string): Promise<boolean> {
    const key = `${email}\n${group}`;
    const cached = this.#answers.get(key);
    if (cached !== undefined) return Promise.resolve(cached);
    const pending = this.#inFlight.get(key);
    if (pending !== undefined) return pending;
    const asking = this.#check(email, group).then(
      (member) => {
        this.#inFlight.delete(key);
        this.#answers.set(key, member, member ? this.#positiveMs : this.#negativeMs);
        return member;
      },
      (error: unknown) => {
        this.#inFlight.delete(key);
        throw asRetryable(error);
      },
    );
    this.#inFlight.set(key, asking);
    return asking;
  }

  async #withinDeadline<T>(work: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(
          new TransientError(`group membership was not known within ${this.#deadlineMs} ms`, {
            code: 'GROUPS_TIMEOUT',
            hint: 'the group directory answered too slowly; retried automatically',
          }),
        );
      }, this.#deadlineMs);
    });
    try {
      return await Promise.race([work, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
