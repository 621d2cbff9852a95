/** Errors of the local Workflows runner. */
import { isMap, type Value, type ValueMap } from './values.ts';

/**
 * A value raised inside a workflow — by a `raise` step, a failed HTTP call or a failing
 * expression. `try`/`except` catches it; uncaught, it fails the execution.
 */
export class WorkflowRaise extends Error {
  readonly value: Value;
  /** The step it was raised in; set by the interpreter. */
  step: string | null;

  constructor(value: Value, step: string | null = null) {
    super(describeRaised(value));
    this.name = 'WorkflowRaise';
    this.value = value;
    this.step = step;
  }
}

/** A built-in error map, as Workflows raises them: `{message, tags: [tag], …extra}`. */
export function raiseError(tag: string, message: string, extra: ValueMap = {}): WorkflowRaise {
  return new WorkflowRaise({ message, tags: [tag], ...extra });
}

export function describeRaised(value: Value): string {
  if (typeof value === 'string') return value;
  if (isMap(value) && typeof value['message'] === 'string') return value['message'];
  return JSON.stringify(value);
}

/** The execution was cancelled. Not catchable by `except`. */
export class ExecutionCancelled extends Error {
  constructor() {
    super('the execution was cancelled');
    this.name = 'ExecutionCancelled';
  }
}

/** The execution ran more steps than allowed (Workflows: 100,000). Not catchable by `except`. */
export class StepLimitExceeded extends Error {
  readonly limit: number;
  readonly step: string;

  constructor(limit: number, step: string) {
    super(`ResourceLimitError: the execution exceeded the limit of ${limit} steps (at step "${step}")`);
    this.name = 'StepLimitExceeded';
    this.limit = limit;
    this.step = step;
  }
}

/** The workflow source is invalid or uses syntax the local runner does not support. */
export class WorkflowLoadError extends Error {
  readonly source: string;
  readonly step: string | null;

  constructor(source: string, step: string | null, message: string) {
    super(`${source}: ${step === null ? '' : `step "${step}": `}${message}`);
    this.name = 'WorkflowLoadError';
    this.source = source;
    this.step = step;
  }
}
