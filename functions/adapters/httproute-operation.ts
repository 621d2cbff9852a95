/**
 * Waiting for a Network Services long-running operation: poll with exponential backoff, bounded
 * by a deadline. A transient failure of one poll is tolerated until the deadline; running out of
 * time is transient too (the operation may still complete; the next attempt reads the route).
 */
import type { networkservices_v1 } from 'googleapis/build/src/apis/networkservices/v1.js';
import { RouteError } from '../ports/traffic-router.ts';
import { operationError, routeErrorFrom } from './httproute-errors.ts';

export type Operation = networkservices_v1.Schema$Operation;

export interface PollOptions {
  /** First wait between polls. */
  readonly initialMs: number;
  /** Longest wait between polls (the wait doubles up to this). */
  readonly maxMs: number;
  /** Give up after this long. */
  readonly timeoutMs: number;
}

export interface PollClock {
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
}

export const realClock: PollClock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Resolves when the operation is done without error; throws RouteError otherwise. */
export async function waitForOperation(
  first: Operation,
  fetch: (name: string) => Promise<Operation>,
  options: PollOptions,
  action: string,
  clock: PollClock = realClock,
): Promise<Operation> {
  const name = first.name ?? '';
  const deadline = clock.now() + options.timeoutMs;
  let delay = Math.max(1, options.initialMs);
  let current = first;
  let lastProblem = 'still running';
  while (current.done !== true) {
    if (name === '') {
      throw new RouteError(
        'transient',
        `${action}: the API returned an operation without a name`,
        'retried; if it persists the API answered something unexpected',
      );
    }
    const remaining = deadline - clock.now();
    if (remaining <= 0) {
      throw new RouteError(
        'transient',
        `${action}: operation ${name} did not finish within ${options.timeoutMs} ms (${lastProblem})`,
        'it may still complete; the next attempt reads the route to see whether it did (raise ROUTE_OPERATION_TIMEOUT_SECONDS if this repeats)',
      );
    }
    await clock.sleep(Math.min(delay, remaining));
    delay = Math.min(delay * 2, Math.max(1, options.maxMs));
    try {
      current = await fetch(name);
      lastProblem = 'still running';
    } catch (error) {
      const failure = routeErrorFrom(error, `polling operation ${name}`);
      if (failure.kind !== 'transient') throw failure;
      lastProblem = `last poll: ${failure.message}`;
    }
  }
  if (current.error) throw operationError(current.error, name, action);
  return current;
}
