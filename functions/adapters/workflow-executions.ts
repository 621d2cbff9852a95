/**
 * WorkflowExecutions on the Workflow Executions v1 REST API, through the single-API googleapis
 * client (not the whole googleapis package). Production authenticates with Application Default
 * Credentials (cloud-platform scope), using the google-auth-library that googleapis-common
 * itself loads; with `rootUrl` (the local runner) no credentials are sent.
 */
import {
  auth as googleAuth,
  workflowexecutions,
  type workflowexecutions_v1,
} from 'googleapis/build/src/apis/workflowexecutions/index.js';
import { InvalidInputError, RefusedError, TransientError } from '../errors.ts';
import type { WorkflowExecutions } from '../ports/workflow-executions.ts';
import { classifyGoogleError } from './google-errors.ts';

export type Credentials = NonNullable<workflowexecutions_v1.Options['auth']>;

export interface WorkflowExecutionsOptions {
  /** A local stand-in, e.g. http://127.0.0.1:PORT/ (any path is dropped); production leaves it unset. */
  readonly rootUrl?: string;
  /** Default: Application Default Credentials in production, none with `rootUrl`. */
  readonly auth?: Credentials;
  /** Per request; default 30 s. */
  readonly timeoutMs?: number;
}

/** What `get` reports about an execution. */
export interface ExecutionStatus {
  readonly name: string;
  readonly state: string;
  readonly result: string | null;
  readonly error: { readonly payload: string; readonly context: string } | null;
}

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const WORKFLOW = /^projects\/[^/]+\/locations\/[^/]+\/workflows\/[^/]+$/;
const EXECUTION = /^projects\/[^/]+\/locations\/[^/]+\/workflows\/[^/]+\/executions\/[^/]+$/;
const MAX_ARGUMENT_BYTES = 32 * 1024;

function mapError(error: unknown, action: string, resource: string): Error {
  const failure = classifyGoogleError(error);
  const message = `${action} ${resource} failed: ${failure.detail}`;
  const details = (code: string, hint: string) => ({ code, hint, cause: error });
  switch (failure.kind) {
    case 'transient':
    case 'conflict':
      return new TransientError(
        message,
        failure.httpStatus === 429
          ? details(
              'WORKFLOWS_QUOTA',
              'request or concurrent-execution quota exceeded; retried automatically',
            )
          : details(
              'WORKFLOWS_UNAVAILABLE',
              'the Workflow Executions API failed or could not be reached; retried automatically',
            ),
      );
    case 'invalidArgument':
      return new InvalidInputError(
        message,
        [],
        details(
          'WORKFLOW_ARGUMENT_REJECTED',
          'the execution argument must be a JSON object of at most 32 KB',
        ),
      );
    case 'permissionDenied':
    case 'unauthenticated':
      return new RefusedError(
        message,
        details(
          'WORKFLOWS_PERMISSION_DENIED',
          "grant the function's service account roles/workflows.invoker on the project",
        ),
      );
    case 'notFound':
      return new RefusedError(
        message,
        action === 'starting'
          ? details(
              'WORKFLOW_NOT_FOUND',
              'check WORKFLOW_NAME and that the workflow is deployed (terraform apply)',
            )
          : details(
              'EXECUTION_NOT_FOUND',
              'check the execution name; executions are kept for a limited time',
            ),
      );
  }
}

export class WorkflowExecutionsClient implements WorkflowExecutions {
  readonly #api: workflowexecutions_v1.Workflowexecutions;

  constructor(options: WorkflowExecutionsOptions = {}) {
    const credentials =
      options.auth ??
      (options.rootUrl === undefined ? new googleAuth.GoogleAuth({ scopes: [SCOPE] }) : undefined);
    this.#api = workflowexecutions({
      version: 'v1',
      timeout: options.timeoutMs ?? 30_000,
      ...(options.rootUrl === undefined ? {} : { rootUrl: options.rootUrl }),
      ...(credentials === undefined ? {} : { auth: credentials }),
    });
  }

  get #executions(): workflowexecutions_v1.Resource$Projects$Locations$Workflows$Executions {
    return this.#api.projects.locations.workflows.executions;
  }

  async start(workflow: string, argument: Readonly<Record<string, unknown>>): Promise<string> {
    if (!WORKFLOW.test(workflow)) {
      throw new InvalidInputError(`not a workflow name: ${workflow}`, [
        { field: 'workflow', rule: 'must be projects/P/locations/L/workflows/W' },
      ]);
    }
    const text = JSON.stringify(argument);
    if (Buffer.byteLength(text) > MAX_ARGUMENT_BYTES) {
      throw new InvalidInputError(`the argument for ${workflow} exceeds ${MAX_ARGUMENT_BYTES} bytes`, [
        { field: 'argument', rule: `at most ${MAX_ARGUMENT_BYTES} bytes of JSON` },
      ]);
    }
    let name: string | null | undefined;
    try {
      const response = await this.#executions.create({ parent: workflow, requestBody: { argument: text } });
      name = response.data.name;
    } catch (error) {
      throw mapError(error, 'starting', workflow);
    }
    if (typeof name !== 'string' || !EXECUTION.test(name)) {
      throw new TransientError(`starting ${workflow} returned no execution name`, {
        code: 'WORKFLOWS_BAD_ANSWER',
        hint: 'unexpected answer from the Workflow Executions API; retried automatically',
      });
    }
    return name;
  }

  /** The execution's state (ACTIVE, SUCCEEDED, FAILED, CANCELLED, …) and outcome. */
  async get(execution: string): Promise<ExecutionStatus> {
    if (!EXECUTION.test(execution)) {
      throw new InvalidInputError(`not an execution name: ${execution}`, [
        { field: 'execution', rule: 'must be projects/P/locations/L/workflows/W/executions/ID' },
      ]);
    }
    try {
      const { data } = await this.#executions.get({ name: execution });
      return {
        name: data.name ?? execution,
        state: data.state ?? 'STATE_UNSPECIFIED',
        result: data.result ?? null,
        error: data.error ? { payload: data.error.payload ?? '', context: data.error.context ?? '' } : null,
      };
    } catch (error) {
      throw mapError(error, 'reading', execution);
    }
  }
}
