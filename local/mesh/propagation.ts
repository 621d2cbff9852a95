/**
 * How a route change reaches the mesh's data plane: not at once and not everywhere at the same
 * moment. Each of several clients (sidecars, Cloud Run instances) picks up a new configuration
 * after its own delay, drawn per client and change; until the last one has, old and new splits
 * serve side by side. A request is served by one client, chosen at random. A late delivery
 * never replaces a newer configuration a client already has.
 */
import { type DelaySpec, delaySource, maxOf } from '../timing.ts';
import type { RandomSource } from './weights.ts';

export interface PropagationOptions {
  /** Delay between a change and one client applying it; 0 applies it everywhere at once. */
  readonly delay: DelaySpec;
  /** Clients that pick up changes independently; default 8. */
  readonly clients?: number;
  /** Draws the delays and the client of each request. */
  readonly random: RandomSource;
}

export class Propagation<T> {
  readonly #views: { config: T; version: number }[];
  readonly #draw: () => number;
  readonly #random: RandomSource;
  readonly #immediate: boolean;
  readonly #timers = new Set<NodeJS.Timeout>();
  #version = 0;
  #latest: T;

  constructor(initial: T, options: PropagationOptions) {
    const clients = options.clients ?? 8;
    if (!Number.isInteger(clients) || clients < 1)
      throw new RangeError(`clients must be ≥ 1, got ${clients}`);
    this.#views = Array.from({ length: clients }, () => ({ config: initial, version: 0 }));
    this.#draw = delaySource(options.delay, options.random);
    this.#random = options.random;
    this.#immediate = maxOf(options.delay) === 0;
    this.#latest = initial;
  }

  /** The newest configuration, as the control plane has it. */
  latest(): T {
    return this.#latest;
  }

  /** The configuration every client starts with (the routes as they are when the mesh starts). */
  reset(config: T): void {
    this.#version += 1;
    this.#latest = config;
    for (const view of this.#views) {
      view.config = config;
      view.version = this.#version;
    }
  }

  /** A new configuration: each client applies it after its own delay. */
  update(config: T): void {
    this.#version += 1;
    const version = this.#version;
    this.#latest = config;
    for (const view of this.#views) {
      const apply = (): void => {
        if (view.version < version) {
          view.config = config;
          view.version = version;
        }
      };
      if (this.#immediate) {
        apply();
        continue;
      }
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        apply();
      }, this.#draw());
      timer.unref();
      this.#timers.add(timer);
    }
  }

  /** The configuration the client serving the next request has. */
  pick(): T {
    const index = Math.min(this.#views.length - 1, Math.floor(this.#random() * this.#views.length));
    return this.#views[index]?.config ?? this.#latest;
  }

  /** Whether every client has the newest configuration. */
  settled(): boolean {
    return this.#views.every((v) => v.version === this.#version);
  }

  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}
