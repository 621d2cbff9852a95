/**
 * Waiting for a Network Services long-running operation: poll with exponential backoff, bounded
 * by a deadline. A transient failure of one poll is tolerated until the deadline; running out of
 * time is transient too (the operation may still complete; the next attempt reads the route).
 */
import type { networkservices_v1 } from 'googleapis/build/src/apis/networkservices/v1.js';
import { RouteError } from '../ports/traffic-router.ts';
import { operationError, routeErrorFrom } from './route-errors.ts';

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

/**
 * Polls until the operation is done (returned as the API reports it, error or not) or the
 * deadline passes (null: it is still running and may yet complete).
 */
export async function pollOperation(
  first: Operation,
  fetch: (name: string) => Promise<Operation>,
  options: PollOptions,
  clock: PollClock = realClock,
): Promise<Operation | null> {
  const name = first.name ?? '';
  const deadline = clock.now() + options.timeoutMs;
  let delay = Math.max(1, options.initialMs);
  let current = first;
  while (current.done !== true) {
    const remaining = deadline - clock.now();
    if (remaining <= 0) return null;
    await clock.sleep(Math.min(delay, remaining));
    delay = Math.min(delay * 2, Math.max(1, options.maxMs));
    try {
      current = await fetch(name);
    } catch (error) {
      const failure = routeErrorFrom(error, `polling operation ${name}`);
      if (failure.kind !== 'transient') throw failure;
    }
  }
  return current;
}

export function unnamedOperation(action: string): RouteError {
  return new RouteError(
    'transient',
    `${action}: the API returned an operation without a name`,
    'retried; if it persists the API answered something unexpected',
  );
}

export function operationTimeout(action: string, name: string, timeoutMs: number): RouteError {
  return new RouteError(
    'transient',
    `${action}: operation ${name} did not finish within ${timeoutMs} ms (still running)`,
    'it may still complete: it is recorded, and nothing is confirmed until it has finished or been cancelled (raise ROUTE_OPERATION_TIMEOUT_SECONDS if this repeats)',
  );
}

/** Resolves with the operation once it is done without error; throws RouteError otherwise. */
export async function waitForOperation(
  first: Operation,
  fetch: (name: string) => Promise<Operation>,
  options: PollOptions,
  action: string,
  clock: PollClock = realClock,
): Promise<Operation> {
  const name = first.name ?? '';
  if (first.done !== true && name === '') throw unnamedOperation(action);
  const done = await pollOperation(first, fetch, options, clock);
  if (done === null) throw operationTimeout(action, name, options.timeoutMs);
  if (done.error) throw operationError(done.error, name, action);
  return done;
}
