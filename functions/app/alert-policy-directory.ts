/**
 * The project's alert policies as onAlert sees them: the list from Cloud Monitoring, kept for a
 * short while so a real incident is accepted at once, and read again on a miss (a policy created
 * since the last read) at most once every `minRefreshMs`. A miss inside that interval waits for the
 * next allowed read rather than ignoring the incident, so a flood of forged incidents costs one
 * list call per interval and a brand-new policy's first incident is never dropped.
 */
import type { AlertPolicies, AlertPolicySummary } from '../ports/alert-policies.ts';
import type { Lazy } from './lifecycle-events.ts';

export interface AlertPolicyDirectoryOptions {
  /** How long a read list answers hits (default 60 s). */
  readonly ttlMs?: number;
  /** The shortest time between two reads (default 10 s). */
  readonly minRefreshMs?: number;
  readonly clock?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class AlertPolicyDirectory {
  readonly #source: Lazy<AlertPolicies>;
  readonly #ttlMs: number;
  readonly #minRefreshMs: number;
  readonly #clock: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #policies: readonly AlertPolicySummary[] | null = null;
  #readAt = Number.NEGATIVE_INFINITY;
  #pending: Promise<readonly AlertPolicySummary[]> | null = null;

  constructor(source: Lazy<AlertPolicies>, options: AlertPolicyDirectoryOptions = {}) {
    this.#source = source;
    this.#ttlMs = options.ttlMs ?? 60_000;
    this.#minRefreshMs = options.minRefreshMs ?? 10_000;
    this.#clock = options.clock ?? Date.now;
    this.#sleep = options.sleep ?? realSleep;
  }

  /**
   * The policies `wanted` selects: from the kept list when it is fresh and has one, else from a new
   * read. Throws the port's ControllerError when Monitoring cannot be read (transient: retryable).
   */
  async find(wanted: (p: AlertPolicySummary) => boolean): Promise<AlertPolicySummary[]> {
    const kept = this.#policies;
    if (kept !== null && this.#clock() - this.#readAt < this.#ttlMs) {
      const hits = kept.filter(wanted);
      if (hits.length > 0) return hits;
    }
    return (await this.#refresh()).filter(wanted);
  }

  /** One read at a time; no sooner than minRefreshMs after the previous one. */
  #refresh(): Promise<readonly AlertPolicySummary[]> {
    this.#pending ??= (async () => {
      try {
        const wait = this.#readAt + this.#minRefreshMs - this.#clock();
        if (wait > 0) await this.#sleep(wait);
        const policies = await (await this.#source()).list();
        this.#policies = policies;
        this.#readAt = this.#clock();
        return policies;
      } finally {
        this.#pending = null;
      }
    })();
    return this.#pending;
  }
}
