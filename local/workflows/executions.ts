/**
 * Executions of the local Workflows runner: start, observe, cancel. Each execution runs in this
 * process; its state follows Workflows: ACTIVE → SUCCEEDED (result = JSON of the returned
 * value) | FAILED (error {payload, context}) | CANCELLED.
 */
import { randomUUID } from 'node:crypto';
import { workflowsServiceAccount } from '../identities.ts';
import { describeRaised, ExecutionCancelled, StepLimitExceeded, WorkflowRaise } from './errors.ts';
import type { OidcMinter } from './http.ts';
import { type LogEntry, runWorkflow, type SleepRecord } from './interpreter.ts';
import type { Program } from './program.ts';
import { isMap, toValue, type Value } from './values.ts';

export type ExecutionState = 'ACTIVE' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

/** The Execution resource as the Workflow Executions v1 API returns it. */
export interface Execution {
  readonly name: string;
  readonly state: ExecutionState;
  readonly startTime: string;
  readonly endTime?: string;
  readonly duration?: string;
  readonly argument?: string;
  readonly result?: string;
  readonly error?: { readonly payload: string; readonly context: string };
  readonly status: { readonly currentSteps: readonly { readonly routine: string; readonly step: string }[] };
  readonly workflowRevisionId: string;
  readonly callLogLevel: 'CALL_LOG_LEVEL_UNSPECIFIED';
}

/** An execution with what the runner recorded about it (for tests and demos). */
export interface ExecutionDetails extends Execution {
  /** Steps executed so far (the limit is the store's stepLimit). */
  readonly stepCount: number;
  readonly sleeps: readonly SleepRecord[];
  readonly logs: readonly LogEntry[];
}

/** An API-level refusal, rendered by the server in Google's error shape. */
export class ApiError extends Error {
  readonly httpStatus: number;
  readonly status: string;

  constructor(httpStatus: number, status: string, message: string) {
    super(message);
    this.name = 'ApiError';
    this.httpStatus = httpStatus;
    this.status = status;
  }
}

export const REVISION_ID = '000001-local';
export const MAX_ARGUMENT_BYTES = 32 * 1024;
const RESERVED_ENV = /^(GOOGLE_|WORKFLOWS_)/;

export interface WorkflowRef {
  readonly project: string;
  readonly location: string;
  readonly workflow: string;
}

export interface ExecutionStoreOptions {
  /** Workflow id → loaded program. */
  readonly workflows: ReadonlyMap<string, Program>;
  readonly timeScale?: number;
  /** Accept fractional sys.sleep seconds (scaled local runs); default false, see interpreter.ts. */
  readonly fractionalSleeps?: boolean;
  /** User-defined environment variables (names must not start with GOOGLE_ or WORKFLOWS_). */
  readonly env?: Readonly<Record<string, string>>;
  readonly stepLimit?: number;
  readonly fetch?: typeof fetch;
  /** Mints ID tokens of the executions' service account for `auth: {type: OIDC}` calls. */
  readonly oidcMinter?: OidcMinter;
  /** Receives every sys.log call (default: kept on the execution only). */
  readonly onLog?: (entry: LogEntry & { readonly execution: string }) => void;
}

interface ExecutionRecord {
  readonly name: string;
  /** Start order, for listing newest first. */
  readonly sequence: number;
  readonly startedAt: number;
  readonly argument: string | undefined;
  state: ExecutionState;
  endedAt: number | null;
  result: string | undefined;
  error: { payload: string; context: string } | undefined;
  currentStep: string | null;
  stepCount: number;
  readonly sleeps: SleepRecord[];
  readonly logs: LogEntry[];
  readonly abort: AbortController;
  readonly settled: Promise<void>;
}

/** The run option that mints the execution's ID tokens as its service account, if a minter was given. */
function oidcOf(
  minter: OidcMinter | undefined,
  serviceAccount: string,
): { oidcToken?: (audience: string) => Promise<string> } {
  return minter === undefined ? {} : { oidcToken: (audience) => minter(serviceAccount, audience) };
}

function duration(ms: number): string {
  return `${(ms / 1000).toFixed(3)}s`;
}

function failure(error: unknown): { payload: string; context: string; step: string | null } {
  if (error instanceof WorkflowRaise) {
    const tags = isMap(error.value) ? error.value['tags'] : null;
    const tag = Array.isArray(tags) && typeof tags[0] === 'string' ? `${tags[0]}: ` : '';
    const where = error.step === null ? '' : `\nin step "${error.step}", routine "main"`;
    return {
      payload: JSON.stringify(error.value),
      context: `${tag}${describeRaised(error.value)}${where}`,
      step: error.step,
    };
  }
  if (error instanceof StepLimitExceeded) {
    const value = { message: error.message, tags: ['ResourceLimitError'], limit: error.limit };
    return { payload: JSON.stringify(value), context: error.message, step: error.step };
  }
  const message = `SystemError: ${(error as Error).message}`;
  return { payload: JSON.stringify({ message, tags: ['SystemError'] }), context: message, step: null };
}

export class ExecutionStore {
  readonly #options: ExecutionStoreOptions;
  readonly #records = new Map<string, ExecutionRecord>();
  #started = 0;

  constructor(options: ExecutionStoreOptions) {
    for (const name of Object.keys(options.env ?? {})) {
      if (RESERVED_ENV.test(name) || name === '') {
        throw new Error(
          `environment variable ${JSON.stringify(name)}: names must not be empty or start with GOOGLE_ or WORKFLOWS_`,
        );
      }
    }
    if (options.timeScale !== undefined && !(options.timeScale > 0)) throw new Error('timeScale must be > 0');
    this.#options = options;
  }

  #program(ref: WorkflowRef): Program {
    const program = this.#options.workflows.get(ref.workflow);
    if (program === undefined) {
      throw new ApiError(
        404,
        'NOT_FOUND',
        `Resource 'projects/${ref.project}/locations/${ref.location}/workflows/${ref.workflow}' was not found`,
      );
    }
    return program;
  }

  /** Starts an execution. `argument` is the JSON text the API receives (or undefined). */
  start(ref: WorkflowRef, argument: string | undefined): ExecutionDetails {
    const program = this.#program(ref);
    let parsed: Value = null;
    if (argument !== undefined) {
      if (Buffer.byteLength(argument) > MAX_ARGUMENT_BYTES) {
        throw new ApiError(
          400,
          'INVALID_ARGUMENT',
          `argument exceeds the limit of ${MAX_ARGUMENT_BYTES} bytes`,
        );
      }
      try {
        parsed = toValue(JSON.parse(argument));
      } catch (error) {
        throw new ApiError(
          400,
          'INVALID_ARGUMENT',
          `argument must be a JSON value: ${(error as Error).message}`,
        );
      }
    }
    const id = randomUUID();
    const name = `projects/${ref.project}/locations/${ref.location}/workflows/${ref.workflow}/executions/${id}`;
    const abort = new AbortController();
    const env: Record<string, string> = {
      ...this.#options.env,
      GOOGLE_CLOUD_PROJECT_ID: ref.project,
      GOOGLE_CLOUD_PROJECT_NUMBER: '0',
      GOOGLE_CLOUD_LOCATION: ref.location,
      GOOGLE_CLOUD_WORKFLOW_ID: ref.workflow,
      GOOGLE_CLOUD_WORKFLOW_REVISION_ID: REVISION_ID,
      GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID: id,
      GOOGLE_CLOUD_SERVICE_ACCOUNT_NAME: workflowsServiceAccount(ref.project),
    };
    const sleeps: SleepRecord[] = [];
    const logs: LogEntry[] = [];
    const onLog = this.#options.onLog;
    let settle = (): void => {};
    const record: ExecutionRecord = {
      name,
      sequence: ++this.#started,
      startedAt: Date.now(),
      argument,
      state: 'ACTIVE',
      endedAt: null,
      result: undefined,
      error: undefined,
      currentStep: null,
      stepCount: 0,
      sleeps,
      logs,
      abort,
      settled: new Promise<void>((resolve) => {
        settle = resolve;
      }),
    };
    this.#records.set(name, record);
    const finish = (
      state: ExecutionState,
      fields: Partial<Pick<ExecutionRecord, 'result' | 'error'>>,
    ): void => {
      if (record.state !== 'ACTIVE') return; // cancelled meanwhile
      record.state = state;
      record.endedAt = Date.now();
      if (fields.result !== undefined) record.result = fields.result;
      if (fields.error !== undefined) record.error = fields.error;
    };
    runWorkflow(program, parsed, {
      env,
      signal: abort.signal,
      ...(this.#options.timeScale === undefined ? {} : { timeScale: this.#options.timeScale }),
      ...(this.#options.fractionalSleeps === undefined
        ? {}
        : { fractionalSleeps: this.#options.fractionalSleeps }),
      ...(this.#options.stepLimit === undefined ? {} : { stepLimit: this.#options.stepLimit }),
      ...(this.#options.fetch === undefined ? {} : { fetch: this.#options.fetch }),
      ...oidcOf(this.#options.oidcMinter, env['GOOGLE_CLOUD_SERVICE_ACCOUNT_NAME'] ?? ''),
      onStep: (step, count) => {
        record.currentStep = step;
        record.stepCount = count;
      },
      onSleep: (sleep) => sleeps.push(sleep),
      onLog: (entry) => {
        logs.push(entry);
        onLog?.({ ...entry, execution: name });
      },
    })
      .then(
        (value) => finish('SUCCEEDED', { result: JSON.stringify(value) }),
        (error: unknown) => {
          if (error instanceof ExecutionCancelled) return;
          const { payload, context, step } = failure(error);
          if (step !== null) record.currentStep = step;
          finish('FAILED', { error: { payload, context } });
        },
      )
      .finally(settle);
    return this.#view(record);
  }

  #view(r: ExecutionRecord): ExecutionDetails {
    return {
      name: r.name,
      state: r.state,
      startTime: new Date(r.startedAt).toISOString(),
      ...(r.endedAt === null
        ? {}
        : { endTime: new Date(r.endedAt).toISOString(), duration: duration(r.endedAt - r.startedAt) }),
      ...(r.argument === undefined ? {} : { argument: r.argument }),
      ...(r.result === undefined ? {} : { result: r.result }),
      ...(r.error === undefined ? {} : { error: { ...r.error } }),
      status: { currentSteps: r.currentStep === null ? [] : [{ routine: 'main', step: r.currentStep }] },
      workflowRevisionId: REVISION_ID,
      callLogLevel: 'CALL_LOG_LEVEL_UNSPECIFIED',
      stepCount: r.stepCount,
      sleeps: [...r.sleeps],
      logs: [...r.logs],
    };
  }

  #record(name: string): ExecutionRecord {
    const r = this.#records.get(name);
    if (r === undefined) throw new ApiError(404, 'NOT_FOUND', `Resource '${name}' was not found`);
    return r;
  }

  get(name: string): ExecutionDetails {
    return this.#view(this.#record(name));
  }

  /** Newest first; only those of `ref`'s workflow when given. */
  list(ref?: WorkflowRef): ExecutionDetails[] {
    const prefix =
      ref === undefined
        ? ''
        : `projects/${ref.project}/locations/${ref.location}/workflows/${ref.workflow}/executions/`;
    return [...this.#records.values()]
      .filter((r) => r.name.startsWith(prefix))
      .sort((a, b) => b.sequence - a.sequence)
      .map((r) => this.#view(r));
  }

  /** Cancels an ACTIVE execution at once (its sleep or HTTP call is interrupted). */
  cancel(name: string): ExecutionDetails {
    const r = this.#record(name);
    if (r.state !== 'ACTIVE') {
      throw new ApiError(400, 'FAILED_PRECONDITION', `execution ${name} is not active (state ${r.state})`);
    }
    r.state = 'CANCELLED';
    r.endedAt = Date.now();
    r.abort.abort();
    return this.#view(r);
  }

  /** Resolves when the execution is no longer ACTIVE (or rejects after `timeoutMs`). */
  async wait(name: string, timeoutMs = 60_000): Promise<ExecutionDetails> {
    const r = this.#record(name);
    if (r.state === 'ACTIVE') {
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new Error(`execution ${name} still ACTIVE after ${timeoutMs} ms (at step ${r.currentStep})`),
            ),
          timeoutMs,
        );
      });
      try {
        await Promise.race([r.settled, timeout]);
      } finally {
        clearTimeout(timer);
      }
    }
    return this.#view(r);
  }

  /** Cancels every ACTIVE execution and waits until each has stopped running. */
  async cancelAll(): Promise<void> {
    const active = [...this.#records.values()].filter((r) => r.state === 'ACTIVE');
    for (const r of active) this.cancel(r.name);
    await Promise.all([...this.#records.values()].map((r) => r.settled));
  }
}
