/**
 * The local stand-in for Cloud Monitoring alerting: every `evaluationMs` it evaluates each
 * enabled policy's threshold conditions over the local series (in-process, same query code as
 * ListTimeSeries) and publishes incidents to the policy's Pub/Sub channels.
 *
 * A series opens an incident once its condition has held at every evaluation for the
 * condition's `duration` (so with duration ≤ one evaluation period, at the second violating
 * evaluation at the latest; duration 0 opens at the first). It closes at the first evaluation
 * that finds the condition not met; with EVALUATION_MISSING_DATA_INACTIVE a series without
 * data counts as not met, otherwise it closes after alertStrategy.autoClose without data.
 * A closed notification is sent when notificationPrompts include CLOSED (the default here).
 * Alignment periods, durations and autoClose are divided by `timeScale`.
 * Notifications that fail to publish stay queued, in order, for the next evaluation.
 */
import { randomBytes } from 'node:crypto';
import type { Labelled } from '../monitoring/model.ts';
import { nanosFromMs } from '../monitoring/time.ts';
import { observe, type SeriesSource } from './condition.ts';
import { type IncidentFacts, notificationOf } from './notification.ts';
import {
  type AlertPolicy,
  AlertPolicyError,
  type Condition,
  type NotificationChannel,
  parseAlertPolicy,
  parseNotificationChannel,
} from './policy.ts';
import { PubSubChannels } from './pubsub-channels.ts';

export interface AlertEvaluatorOptions {
  /** Where series are read: the local Monitoring server (or anything with its `query`). */
  readonly source: SeriesSource;
  /** The scoping project: series are read from it and incidents name it. */
  readonly project: string;
  readonly projectNumber?: number;
  /** AlertPolicy resources (JSON as the REST API takes them). */
  readonly policies: readonly unknown[];
  /** NotificationChannel resources of type pubsub. */
  readonly channels: readonly unknown[];
  /** Time between evaluations; default 5 s, or 60 s divided by timeScale when that is shorter. */
  readonly evaluationMs?: number;
  /** Divides alignment periods, durations and autoClose; default 1. */
  readonly timeScale?: number;
  /** Pub/Sub emulator host:port; default: the client's own (PUBSUB_EMULATOR_HOST). */
  readonly pubsubEndpoint?: string;
  /** Evaluate on a timer (default) or only when `evaluate()` is called. */
  readonly autoStart?: boolean;
  readonly now?: () => number;
  readonly onError?: (error: Error) => void;
}

export interface Notice {
  readonly policy: string;
  readonly condition: string;
  readonly incidentId: string;
  readonly state: 'open' | 'closed';
  readonly resource: Labelled;
  readonly observed: number;
}

export interface EvaluationReport {
  /** 1 for the first evaluation. */
  readonly index: number;
  readonly at: number;
  readonly notices: readonly Notice[];
}

export interface PublishedNotification {
  /** The evaluation that decided it. */
  readonly evaluation: number;
  readonly topic: string;
  readonly messageId: string;
  readonly message: Record<string, unknown>;
}

interface OpenIncident {
  readonly id: string;
  readonly startedAt: number;
  readonly resource: Labelled;
  readonly metric: Labelled;
  observed: number;
}

interface Track {
  violatingSince: number | null;
  lastSeen: number;
  incident: OpenIncident | null;
}

interface Outgoing {
  readonly evaluation: number;
  readonly topic: string;
  readonly message: Record<string, unknown>;
}

export class AlertEvaluator {
  readonly #options: AlertEvaluatorOptions;
  readonly #policies: readonly AlertPolicy[];
  readonly #channels: ReadonlyMap<string, NotificationChannel>;
  readonly #pubsub: PubSubChannels;
  readonly #tracks = new Map<string, Track>();
  readonly #outbox: Outgoing[] = [];
  readonly #published: PublishedNotification[] = [];
  readonly #scale: number;
  readonly #now: () => number;
  readonly #onError: (error: Error) => void;
  #evaluations = 0;
  #chain: Promise<unknown> = Promise.resolve();
  #timer: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(options: AlertEvaluatorOptions) {
    this.#options = options;
    this.#scale = options.timeScale ?? 1;
    if (!(this.#scale >= 1)) throw new AlertPolicyError(`timeScale must be at least 1 (got ${this.#scale})`);
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? ((e) => console.error(`alert evaluator: ${e.message}`));
    const channels = options.channels.map(parseNotificationChannel);
    this.#channels = new Map(channels.map((c) => [c.name, c]));
    this.#policies = options.policies.map((p, i) => parseAlertPolicy(p, options.project, i));
    for (const p of this.#policies) {
      for (const c of p.notificationChannels) {
        if (!this.#channels.has(c))
          throw new AlertPolicyError(`alert policy ${p.displayName} names unknown channel ${c}`);
      }
    }
    this.#pubsub = new PubSubChannels(options.pubsubEndpoint ?? null);
    if (options.autoStart ?? true) this.#schedule();
  }

  get evaluations(): number {
    return this.#evaluations;
  }

  /** Notifications delivered so far, oldest first. */
  get published(): readonly PublishedNotification[] {
    return this.#published;
  }

  /** Evaluates every policy now (after any evaluation already running) and delivers what it decided. */
  evaluate(): Promise<EvaluationReport> {
    const run = this.#chain.then(() => this.#evaluateOnce());
    this.#chain = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#chain;
    await this.#pubsub.close();
  }

  #schedule(): void {
    const every = this.#options.evaluationMs ?? Math.min(5_000, 60_000 / this.#scale);
    this.#timer = setTimeout(() => {
      this.evaluate()
        .catch((e: unknown) => this.#onError(e as Error))
        .finally(() => {
          if (!this.#closed) this.#schedule();
        });
    }, every);
    this.#timer.unref();
  }

  async #evaluateOnce(): Promise<EvaluationReport> {
    this.#evaluations += 1;
    const index = this.#evaluations;
    const at = this.#now();
    const notices: Notice[] = [];
    for (const policy of this.#policies) {
      if (!policy.enabled) continue;
      for (const condition of policy.conditions) {
        try {
          notices.push(...this.#evaluateCondition(policy, condition, at, index));
        } catch (error) {
          this.#onError(error as Error);
        }
      }
    }
    await this.#deliver();
    return { index, at, notices };
  }

  #evaluateCondition(policy: AlertPolicy, condition: Condition, at: number, index: number): Notice[] {
    const observations = observe(
      condition,
      this.#options.source,
      this.#options.project,
      nanosFromMs(at),
      this.#scale,
    );
    const prefix = `${policy.name}\u0000${condition.name}\u0000`;
    const notices: Notice[] = [];
    const seen = new Set<string>();
    for (const o of observations) {
      const id = prefix + o.key;
      seen.add(id);
      const track = this.#tracks.get(id) ?? { violatingSince: null, lastSeen: at, incident: null };
      this.#tracks.set(id, track);
      track.lastSeen = at;
      if (o.violating) {
        track.violatingSince ??= at;
        if (track.incident) {
          track.incident.observed = o.value;
        } else if (at - track.violatingSince >= condition.durationMs / this.#scale) {
          track.incident = {
            id: `0.${randomBytes(6).toString('hex')}`,
            startedAt: at,
            resource: o.resource,
            metric: o.metric,
            observed: o.value,
          };
          notices.push(this.#notify(policy, condition, track.incident, 'open', at, index));
        }
      } else {
        track.violatingSince = null;
        if (track.incident) {
          track.incident.observed = o.value;
          notices.push(this.#notify(policy, condition, track.incident, 'closed', at, index));
          track.incident = null;
        }
      }
    }
    for (const [id, track] of this.#tracks) {
      if (!id.startsWith(prefix) || seen.has(id)) continue;
      track.violatingSince = null;
      const missingTooLong = at - track.lastSeen >= policy.autoCloseMs / this.#scale;
      if (track.incident && (condition.missingData === 'inactive' || missingTooLong)) {
        notices.push(this.#notify(policy, condition, track.incident, 'closed', at, index));
        track.incident = null;
      }
      if (!track.incident) this.#tracks.delete(id);
    }
    return notices;
  }

  #notify(
    policy: AlertPolicy,
    condition: Condition,
    incident: OpenIncident,
    state: 'open' | 'closed',
    at: number,
    index: number,
  ): Notice {
    const facts: IncidentFacts = {
      id: incident.id,
      state,
      project: this.#options.project,
      projectNumber: this.#options.projectNumber ?? null,
      policy,
      condition,
      resource: incident.resource,
      metric: incident.metric,
      observed: incident.observed,
      startedAtMs: incident.startedAt,
      endedAtMs: state === 'closed' ? at : null,
    };
    if (state === 'open' || policy.notifyOnClose) {
      for (const name of policy.notificationChannels) {
        const channel = this.#channels.get(name);
        if (channel?.enabled)
          this.#outbox.push({ evaluation: index, topic: channel.topic, message: notificationOf(facts) });
      }
    }
    return {
      policy: policy.displayName,
      condition: condition.displayName,
      incidentId: incident.id,
      state,
      resource: incident.resource,
      observed: incident.observed,
    };
  }

  async #deliver(): Promise<void> {
    while (this.#outbox.length > 0) {
      const next = this.#outbox[0] as Outgoing;
      try {
        const messageId = await this.#pubsub.publish(next.topic, next.message);
        this.#published.push({ ...next, messageId });
        this.#outbox.shift();
      } catch (error) {
        this.#onError(
          new Error(
            `publishing an incident to ${next.topic} failed (kept for the next evaluation): ${(error as Error).message}`,
            {
              cause: error,
            },
          ),
        );
        return;
      }
    }
  }
}

/** Starts evaluating on a timer (unless autoStart is false). */
export function startAlertEvaluator(options: AlertEvaluatorOptions): AlertEvaluator {
  return new AlertEvaluator(options);
}
