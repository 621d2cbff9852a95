/**
 * Runs a loaded workflow: steps in order, `next` jumps (to a step of the same list or an
 * enclosing one), `switch`, `try`/`retry`/`except`, `return`/`raise`, and the call steps
 * http.*, sys.sleep and sys.log. Variables live in the workflow's scope, except those first
 * created in an `except` block (and its `as` variable), which end with the block, as in
 * Workflows. Values are copied on assignment.
 *
 * sys.sleep takes whole seconds: Google documents `seconds` as "the number of seconds", not what a
 * fraction does, so the runner takes the harsher reading and refuses one (TypeError) — a workflow
 * that passes it fails here, not only in Google Cloud. `fractionalSleeps` lifts that for scaled
 * local runs, whose waits are fractions of a second.
 *
 * Sleeps and retry backoff are divided by `timeScale`; cancellation (the signal) interrupts a
 * sleep or an HTTP call at once and cannot be caught by `except`. Every executed step counts
 * towards `stepLimit` (Workflows: 100,000), including each retry attempt.
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ExecutionCancelled, raiseError, StepLimitExceeded, WorkflowRaise } from './errors.ts';
import { type EvalContext, evaluate, getKey } from './evaluate.ts';
import { httpCall } from './http.ts';
import type { AssignTarget, CallTarget, Program, RetryPolicy, Step, StepBody, Template } from './program.ts';
import {
  callBuiltin,
  defaultRetryPredicate,
  nonIdempotentRetryPredicate,
  type StdlibContext,
} from './stdlib.ts';
import { copy, isMap, typeName, type Value, type ValueMap } from './values.ts';

export const DEFAULT_STEP_LIMIT = 100_000;
export const MAX_SLEEP_SECONDS = 31_536_000;
const SEVERITIES = new Set([
  'DEFAULT',
  'DEBUG',
  'INFO',
  'NOTICE',
  'WARNING',
  'ERROR',
  'CRITICAL',
  'ALERT',
  'EMERGENCY',
]);

/** One pause of an execution: a sys.sleep, or the backoff before a retry. */
export interface SleepRecord {
  readonly step: string;
  readonly kind: 'sleep' | 'retry';
  /** As the workflow asked for it. */
  readonly seconds: number;
  /** As actually waited: seconds × 1000 / timeScale. */
  readonly scaledMs: number;
}

/** One sys.log call. */
export interface LogEntry {
  readonly step: string;
  readonly severity: string;
  readonly time: string;
  readonly text: string | null;
  readonly json: Value;
}

export interface RunOptions {
  /** What sys.get_env sees (built-in and user-defined variables). */
  readonly env?: Readonly<Record<string, string>>;
  /** Divides sys.sleep durations and retry backoff (tests and demos); default 1. */
  readonly timeScale?: number;
  /** Accept a fractional sys.sleep `seconds` (scaled local runs only); default false: refused. */
  readonly fractionalSleeps?: boolean;
  readonly stepLimit?: number;
  /** Aborting it cancels the run. */
  readonly signal?: AbortSignal;
  readonly fetch?: typeof fetch;
  /** Mints the execution's ID token for `auth: {type: OIDC}` calls (http.ts). */
  readonly oidcToken?: (audience: string) => Promise<string>;
  /** Milliseconds since the epoch, for sys.now; default Date.now. */
  readonly now?: () => number;
  readonly onStep?: (step: string, count: number) => void;
  readonly onSleep?: (sleep: SleepRecord) => void;
  readonly onLog?: (entry: LogEntry) => void;
}

type Flow =
  | { readonly kind: 'continue' }
  | { readonly kind: 'end' }
  | { readonly kind: 'jump'; readonly target: string }
  | { readonly kind: 'return'; readonly value: Value };

const CONTINUE: Flow = { kind: 'continue' };
const END: Flow = { kind: 'end' };
const YIELD_EVERY_STEPS = 500;

function after(next: string | null): Flow {
  if (next === null) return CONTINUE;
  return next === 'end' ? END : { kind: 'jump', target: next };
}

/** The `seconds` of a sys.sleep call: a whole number (or, if allowed, any number) in 0…MAX_SLEEP_SECONDS. */
function sleepSeconds(args: ValueMap, fractional: boolean): number {
  const seconds = args['seconds'] ?? null;
  if (typeof seconds !== 'number' || !(fractional || Number.isInteger(seconds))) {
    throw raiseError(
      'TypeError',
      `sys.sleep: seconds must be ${fractional ? 'a number' : 'an integer'}, got ${typeName(seconds)}${typeof seconds === 'number' ? ` ${seconds}` : ''}`,
    );
  }
  if (seconds < 0 || seconds > MAX_SLEEP_SECONDS) {
    throw raiseError(
      'ValueError',
      `sys.sleep: seconds must be between 0 and ${MAX_SLEEP_SECONDS}, got ${seconds}`,
    );
  }
  return seconds;
}

class Run {
  readonly #vars = new Map<string, Value>();
  readonly #options: RunOptions;
  readonly #signal: AbortSignal;
  readonly #timeScale: number;
  readonly #stepLimit: number;
  readonly #eval: EvalContext;
  #steps = 0;

  constructor(options: RunOptions) {
    this.#options = options;
    this.#signal = options.signal ?? new AbortController().signal;
    this.#timeScale = options.timeScale ?? 1;
    this.#stepLimit = options.stepLimit ?? DEFAULT_STEP_LIMIT;
    const env = options.env ?? {};
    const now = options.now ?? Date.now;
    const stdlib: StdlibContext = {
      env: (name) => (Object.hasOwn(env, name) ? env[name] : undefined),
      now: () => now() / 1000,
    };
    this.#eval = {
      variable: (name) => {
        const value = this.#vars.get(name);
        if (value === undefined) throw raiseError('KeyError', `variable not defined: ${name}`);
        return value;
      },
      call: (name, args) => callBuiltin(name, args, stdlib),
    };
  }

  async run(program: Program, argument: Value): Promise<Value> {
    if (program.param !== null) this.#vars.set(program.param, copy(argument));
    const flow = await this.#list(program.steps);
    if (flow.kind === 'jump') throw new Error(`internal: unresolved jump to ${flow.target}`);
    return flow.kind === 'return' ? flow.value : null;
  }

  async #list(steps: readonly Step[]): Promise<Flow> {
    let i = 0;
    while (i < steps.length) {
      const step = steps[i] as Step;
      const flow = await this.#step(step);
      if (flow.kind === 'continue') {
        i++;
        continue;
      }
      if (flow.kind === 'jump') {
        const target = steps.findIndex((s) => s.name === flow.target);
        if (target >= 0) {
          i = target;
          continue;
        }
      }
      return flow;
    }
    return CONTINUE;
  }

  async #step(step: Step): Promise<Flow> {
    if (this.#signal.aborted) throw new ExecutionCancelled();
    this.#steps++;
    if (this.#steps > this.#stepLimit) throw new StepLimitExceeded(this.#stepLimit, step.name);
    this.#options.onStep?.(step.name, this.#steps);
    // Steps without I/O never wait: let timers, servers and cancellation run now and then.
    if (this.#steps % YIELD_EVERY_STEPS === 0) await yieldToEventLoop();
    try {
      return await this.#body(step.name, step.body);
    } catch (error) {
      if (error instanceof WorkflowRaise && error.step === null) error.step = step.name;
      throw error;
    }
  }

  async #body(name: string, body: StepBody): Promise<Flow> {
    switch (body.kind) {
      case 'assign':
        for (const item of body.items) this.#assign(item.target, copy(this.#value(item.value)));
        return after(body.next);
      case 'call': {
        const args = body.args === null ? {} : this.#value(body.args);
        if (!isMap(args)) throw raiseError('TypeError', `args must be a map, got ${typeName(args)}`);
        const result = await this.#call(name, body.target, args);
        if (body.result !== null) this.#vars.set(body.result, result);
        return after(body.next);
      }
      case 'switch':
        for (const c of body.conditions) {
          const matched = this.#value(c.condition);
          if (typeof matched !== 'boolean') {
            throw raiseError('TypeError', `a switch condition must be a boolean, got ${typeName(matched)}`);
          }
          if (!matched) continue;
          if (c.raises !== null) throw new WorkflowRaise(copy(this.#value(c.raises)));
          if (c.returns !== null) return { kind: 'return', value: copy(this.#value(c.returns)) };
          if (c.steps !== null) {
            const flow = await this.#list(c.steps);
            if (flow.kind !== 'continue') return flow;
          }
          return after(c.next ?? body.next);
        }
        return after(body.next);
      case 'return':
        return { kind: 'return', value: copy(this.#value(body.value)) };
      case 'raise':
        throw new WorkflowRaise(copy(this.#value(body.value)));
      case 'steps': {
        const flow = await this.#list(body.steps);
        return flow.kind === 'continue' ? after(body.next) : flow;
      }
      case 'try':
        return this.#try(name, body);
      case 'jump':
        return after(body.next);
    }
  }

  async #try(name: string, body: Extract<StepBody, { kind: 'try' }>): Promise<Flow> {
    const policy = body.retry === null ? null : this.#policy(body.retry);
    let retries = 0;
    let delay = policy?.initialDelay ?? 0;
    for (;;) {
      try {
        const flow = await this.#list(body.body);
        return flow.kind === 'continue' ? after(body.next) : flow;
      } catch (error) {
        if (!(error instanceof WorkflowRaise)) throw error;
        if (policy !== null && retries < policy.maxRetries && policy.predicate(error.value)) {
          retries++;
          await this.#sleep(name, 'retry', delay);
          delay = Math.min(delay * policy.multiplier, policy.maxDelay);
          continue;
        }
        if (body.except === null) throw error;
        // Variables first created in an except block (its `as` included) are local to it.
        const outer = new Set(this.#vars.keys());
        if (body.except.as !== null) this.#vars.set(body.except.as, copy(error.value));
        try {
          const flow = await this.#list(body.except.steps);
          return flow.kind === 'continue' ? after(body.next) : flow;
        } finally {
          for (const name of this.#vars.keys()) if (!outer.has(name)) this.#vars.delete(name);
        }
      }
    }
  }

  #policy(retry: RetryPolicy): {
    predicate: (e: Value) => boolean;
    maxRetries: number;
    initialDelay: number;
    maxDelay: number;
    multiplier: number;
  } {
    const num = (t: Template, what: string, min: number): number => {
      const v = this.#value(t);
      if (typeof v !== 'number' || v < min)
        throw raiseError('ValueError', `retry ${what} must be a number ≥ ${min}`);
      return v;
    };
    const predicates: Record<RetryPolicy['predicate'], (e: Value) => boolean> = {
      default: defaultRetryPredicate,
      non_idempotent: nonIdempotentRetryPredicate,
      always: () => true,
      never: () => false,
    };
    return {
      predicate: predicates[retry.predicate],
      maxRetries: Math.floor(num(retry.maxRetries, 'max_retries', 0)),
      initialDelay: num(retry.initialDelay, 'initial_delay', 0),
      maxDelay: num(retry.maxDelay, 'max_delay', 0),
      multiplier: num(retry.multiplier, 'multiplier', 1),
    };
  }

  async #call(step: string, target: CallTarget, args: ValueMap): Promise<Value> {
    if (target === 'sys.sleep') {
      await this.#sleep(step, 'sleep', sleepSeconds(args, this.#options.fractionalSleeps === true));
      return null;
    }
    if (target === 'sys.log') {
      this.#log(step, args);
      return null;
    }
    const oidcToken = this.#options.oidcToken;
    return httpCall(target, args, {
      signal: this.#signal,
      fetch: this.#options.fetch ?? fetch,
      ...(oidcToken === undefined ? {} : { oidcToken }),
    });
  }

  #log(step: string, args: ValueMap): void {
    const severity = args['severity'] ?? 'DEFAULT';
    if (typeof severity !== 'string' || !SEVERITIES.has(severity)) {
      throw raiseError('ValueError', `sys.log: unknown severity ${JSON.stringify(severity)}`);
    }
    const data = args['data'] ?? null;
    const text = args['text'] ?? (typeof data === 'string' ? data : null);
    const json = args['json'] ?? (typeof data === 'string' ? null : data);
    this.#options.onLog?.({
      step,
      severity,
      time: new Date((this.#options.now ?? Date.now)()).toISOString(),
      text: text === null ? null : typeof text === 'string' ? text : JSON.stringify(text),
      json: copy(json),
    });
  }

  async #sleep(step: string, kind: SleepRecord['kind'], seconds: number): Promise<void> {
    const scaledMs = (seconds * 1000) / this.#timeScale;
    this.#options.onSleep?.({ step, kind, seconds, scaledMs });
    const signal = this.#signal;
    if (signal.aborted) throw new ExecutionCancelled();
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        clearTimeout(timer);
        reject(new ExecutionCancelled());
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      }, scaledMs);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  #value(t: Template): Value {
    switch (t.kind) {
      case 'const':
        return t.value;
      case 'expr':
        return evaluate(t.expr, this.#eval);
      case 'list':
        return t.items.map((item) => this.#value(item));
      case 'map': {
        const out: ValueMap = {};
        for (const { key, value } of t.entries) {
          const k = typeof key === 'string' ? key : evaluate(key, this.#eval);
          if (typeof k !== 'string')
            throw raiseError('TypeError', `map keys must be strings, got ${typeName(k)}`);
          out[k] = this.#value(value);
        }
        return out;
      }
    }
  }

  #assign(target: AssignTarget, value: Value): void {
    if (target.path.length === 0) {
      this.#vars.set(target.variable, value);
      return;
    }
    let container = this.#eval.variable(target.variable);
    const keys = target.path.map((k) => evaluate(k, this.#eval));
    for (const key of keys.slice(0, -1)) container = getKey(container, key);
    const last = keys[keys.length - 1] ?? null;
    if (isMap(container)) {
      if (typeof last !== 'string')
        throw raiseError('TypeError', `map keys must be strings, got ${typeName(last)}`);
      container[last] = value;
    } else if (Array.isArray(container)) {
      getKey(container, last);
      container[last as number] = value;
    } else {
      throw raiseError('TypeError', `cannot assign into a ${typeName(container)} (${target.text})`);
    }
  }
}

/**
 * Runs `program` with `argument` bound to its parameter. Resolves with the returned value;
 * rejects with WorkflowRaise (uncaught error), StepLimitExceeded or ExecutionCancelled.
 */
export async function runWorkflow(
  program: Program,
  argument: Value,
  options: RunOptions = {},
): Promise<Value> {
  return new Run(options).run(program, argument);
}
