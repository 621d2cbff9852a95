/**
 * Long-running operations of the local Network Services API. A write returns an operation at
 * once; the change itself happens when the operation completes, after the configured delay
 * (fixed, or drawn per operation from a seeded range; 0 completes it before the response is sent). A completed operation holds exactly one of
 * `response` (the resource, with its `@type`) or `error` (a google.rpc.Status).
 *
 * Cancellation is best effort, as Google documents it: a running operation asked to cancel ends
 * with CANCELLED (code 1) and changes nothing — unless the book is told to ignore cancellation,
 * the harsher reading, where the request is only noted (`requestedCancellation`). Cancelling a
 * finished operation changes nothing.
 */
import { randomBytes } from 'node:crypto';
import { ApiError, notFound } from './api-error.ts';
import { operationName, type Parent } from './resource-names.ts';
import type { JsonObject } from './route-validation.ts';
import { rfc3339 } from './timestamps.ts';

const METADATA_TYPE = 'type.googleapis.com/google.cloud.networkservices.v1.OperationMetadata';

export type Verb = 'create' | 'update' | 'delete';

export interface Write {
  readonly parent: Parent;
  /** Full name of the resource the operation changes. */
  readonly target: string;
  readonly verb: Verb;
  /** Makes the change; returns the operation's `response` or throws ApiError. */
  readonly commit: () => JsonObject;
}

export interface OperationJson {
  readonly name: string;
  readonly metadata: JsonObject;
  readonly done: boolean;
  readonly response?: JsonObject;
  readonly error?: { readonly code: number; readonly message: string };
}

/** An error a test asks the next operations to finish with. */
export interface OperationFailure {
  readonly status: ApiError['status'];
  readonly message: string;
}

function now(): string {
  return rfc3339(BigInt(Date.now()) * 1_000_000n);
}

export class OperationBook {
  readonly #operations = new Map<string, OperationJson>();
  readonly #pending = new Map<string, { readonly write: Write; readonly timer: NodeJS.Timeout }>();
  readonly #failures: OperationFailure[] = [];
  readonly #onComplete: () => void;
  #delay: () => number;
  #sequence = 0;
  #honourCancel = true;

  /** `delay` gives each new operation its duration (a fixed value or a seeded draw). */
  constructor(delay: () => number, onComplete: () => void) {
    this.#delay = delay;
    this.#onComplete = onComplete;
  }

  setDelay(ms: number): void {
    const fixed = checkDelay(ms);
    this.#delay = () => fixed;
  }

  /** Whether a cancel request stops a running operation (true) or is only noted (false). */
  setCancellation(honoured: boolean): void {
    this.#honourCancel = honoured;
  }

  /** operations.cancel: best effort; a finished operation is left as it is. */
  cancel(name: string): JsonObject {
    const operation = this.get(name);
    const pending = this.#pending.get(name);
    if (operation.done || pending === undefined) return {};
    const metadata = { ...operation.metadata, requestedCancellation: true };
    if (!this.#honourCancel) {
      this.#operations.set(name, { ...operation, metadata });
      return {};
    }
    clearTimeout(pending.timer);
    this.#pending.delete(name);
    const error = new ApiError('CANCELLED', 'Operation was cancelled.').rpcStatus();
    this.#operations.set(name, { name, metadata: { ...metadata, endTime: now() }, done: true, error });
    return {};
  }

  /** The next `times` operations to complete finish with this error and change nothing. */
  failNext(times: number, failure: OperationFailure): void {
    for (let i = 0; i < times; i += 1) this.#failures.push(failure);
  }

  start(write: Write): OperationJson {
    const name = this.#open(write);
    const delayMs = checkDelay(this.#delay());
    if (delayMs === 0) {
      this.#complete(name, write);
    } else {
      const timer = setTimeout(() => this.#complete(name, write), delayMs);
      this.#pending.set(name, { write, timer });
    }
    return this.get(name);
  }

  /**
   * A write that completes at once, as a person's edit through the console or gcloud is an API
   * call too: it leaves an operation like every other write.
   */
  startAndComplete(write: Write): OperationJson {
    const name = this.#open(write);
    this.#complete(name, write);
    return this.get(name);
  }

  /** operations.list for a location, newest first, in pages. */
  list(
    parent: Parent,
    pageSize: number,
    after: string | null,
  ): { operations: OperationJson[]; next: string | null } {
    const prefix = `${operationName(parent, '')}`;
    const names = [...this.#operations.keys()].filter((n) => n.startsWith(prefix)).reverse();
    const start = after === null ? 0 : names.indexOf(after) + 1;
    const page = names.slice(start, start + pageSize);
    const last = page.at(-1);
    return {
      operations: page.map((n) => this.get(n)),
      next: start + pageSize < names.length && last !== undefined ? last : null,
    };
  }

  #open(write: Write): string {
    this.#sequence += 1;
    const id = `operation-${Date.now()}-${this.#sequence.toString(16)}-${randomBytes(4).toString('hex')}`;
    const name = operationName(write.parent, id);
    this.#operations.set(name, {
      name,
      metadata: {
        '@type': METADATA_TYPE,
        createTime: now(),
        target: write.target,
        verb: write.verb,
        requestedCancellation: false,
        apiVersion: 'v1',
      },
      done: false,
    });
    return name;
  }

  get(name: string): OperationJson {
    const operation = this.#operations.get(name);
    if (operation === undefined) throw notFound(`Operation '${name}' was not found`);
    return structuredClone(operation);
  }

  /** Completes every pending operation now, oldest first; returns how many there were. */
  completePending(): number {
    const pending = [...this.#pending];
    for (const [name, { write }] of pending) this.#complete(name, write);
    return pending.length;
  }

  #complete(name: string, write: Write): void {
    const operation = this.#operations.get(name);
    const pending = this.#pending.get(name);
    if (pending !== undefined) clearTimeout(pending.timer);
    this.#pending.delete(name);
    if (operation === undefined || operation.done) return;
    const metadata = { ...operation.metadata, endTime: now() };
    const failure = this.#failures.shift();
    let outcome: Pick<OperationJson, 'response' | 'error'>;
    if (failure !== undefined) {
      outcome = { error: new ApiError(failure.status, failure.message).rpcStatus() };
    } else {
      try {
        outcome = { response: write.commit() };
      } catch (error) {
        const failed = ApiError.from(error);
        outcome = { error: failed.rpcStatus() };
      }
    }
    // The resource's updateTime is the moment the write took effect: the operation ends then too.
    const updated = outcome.response?.['updateTime'];
    const ended = typeof updated === 'string' ? { ...metadata, endTime: updated } : metadata;
    this.#operations.set(name, { name, metadata: ended, done: true, ...outcome });
    this.#onComplete();
  }

  /** Stops pending operations (they never complete). */
  close(): void {
    for (const { timer } of this.#pending.values()) clearTimeout(timer);
    this.#pending.clear();
  }
}

function checkDelay(ms: number): number {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`operation delay must be ≥ 0 ms, got ${ms}`);
  return ms;
}
