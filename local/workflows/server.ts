/**
 * A local stand-in for the Workflow Executions v1 REST API, running workflows with the local
 * runner. Serves the paths the googleapis client calls:
 *
 *   POST /v1/projects/P/locations/L/workflows/W/executions          {argument: "<JSON text>"}
 *   GET  /v1/projects/P/locations/L/workflows/W/executions          ?pageSize&pageToken
 *   GET  /v1/projects/P/locations/L/workflows/W/executions/ID
 *   POST /v1/projects/P/locations/L/workflows/W/executions/ID:cancel
 *
 * Any project and location are accepted; W must be one of the registered workflows. Errors
 * use Google's shape {error: {code, message, status}}. No credentials are checked.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen, sendJson } from '../net.ts';
import {
  ApiError,
  type Execution,
  type ExecutionDetails,
  ExecutionStore,
  type WorkflowRef,
} from './executions.ts';
import type { OidcMinter } from './http.ts';
import type { LogEntry } from './interpreter.ts';
import { loadWorkflowFile } from './load.ts';
import type { Program } from './program.ts';

export interface WorkflowsServerOptions {
  /** Default: a free port chosen by the system. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Workflow id (the W of projects/P/locations/L/workflows/W) → YAML file. */
  readonly workflows: Readonly<Record<string, string>>;
  /** Divides sys.sleep durations and retry backoff; default 1. */
  readonly timeScale?: number;
  /**
   * Accept a fractional sys.sleep `seconds`; default false: refused, as the harsher reading of
   * Google's docs (whole seconds). Only scaled local runs, whose waits are fractions, set it.
   */
  readonly fractionalSleeps?: boolean;
  /** User-defined workflow environment variables, read with sys.get_env. */
  readonly env?: Readonly<Record<string, string>>;
  /** Default 100,000, as in Workflows. */
  readonly stepLimit?: number;
  /** Receives every sys.log call of every execution. */
  readonly onLog?: (entry: LogEntry & { readonly execution: string }) => void;
  /** Mints the executions' ID tokens for `auth: {type: OIDC}` (default: none sent). */
  readonly oidcMinter?: OidcMinter;
}

export interface WorkflowsServer {
  /** Base URL with a trailing slash, e.g. for the googleapis `rootUrl` option. */
  readonly url: string;
  readonly port: number;
  /** Programmatic access: start, get, list, wait for completion, cancel. */
  readonly executions: ExecutionStore;
  /** Test hook: the next `times` create requests answer `httpStatus` with Google's error body. */
  failNextCreate(httpStatus: number, times?: number): void;
  /** Cancels running executions and stops the server. */
  close(): Promise<void>;
}

const WORKFLOW_ID = /^[A-Za-z][-\w]{0,63}$/;
const ROUTE =
  /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/workflows\/([^/]+)\/executions(?:\/([^/:]+)(:cancel)?)?$/;
const MAX_BODY_BYTES = 1024 * 1024;
const DEFAULT_PAGE_SIZE = 100;

/** The API resource, without what the runner records locally. */
export function toResource(d: ExecutionDetails): Execution {
  const { stepCount: _steps, sleeps: _sleeps, logs: _logs, ...resource } = d;
  return resource;
}

function sendError(res: ServerResponse, error: ApiError): void {
  sendJson(res, error.httpStatus, {
    error: { code: error.httpStatus, message: error.message, status: error.status },
  });
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_BODY_BYTES) throw new ApiError(413, 'INVALID_ARGUMENT', 'request body too large');
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError(400, 'INVALID_ARGUMENT', 'request body is not valid JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new ApiError(400, 'INVALID_ARGUMENT', 'request body must be a JSON object');
  }
  return body as Record<string, unknown>;
}

const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'INVALID_ARGUMENT',
  403: 'PERMISSION_DENIED',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
};

async function handle(
  store: ExecutionStore,
  workflows: readonly string[],
  createFailures: number[],
  req: IncomingMessage,
  res: ServerResponse,
) {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = decodeURIComponent(url.pathname);
  if (req.method === 'GET' && (path === '/' || path === '/healthz')) {
    sendJson(res, 200, { status: 'ok', workflows });
    return;
  }
  const match = ROUTE.exec(path);
  if (match === null) throw new ApiError(404, 'NOT_FOUND', `no such API path: ${req.method} ${path}`);
  const [, project = '', location = '', workflow = '', id, cancel] = match;
  const ref: WorkflowRef = { project, location, workflow };
  const parent = `projects/${project}/locations/${location}/workflows/${workflow}`;
  if (!workflows.includes(workflow))
    throw new ApiError(404, 'NOT_FOUND', `Resource '${parent}' was not found`);

  if (id === undefined && req.method === 'POST') {
    const injected = createFailures.shift();
    if (injected !== undefined) {
      throw new ApiError(injected, STATUS_NAMES[injected] ?? 'UNKNOWN', `injected HTTP ${injected}`);
    }
    const body = await readJson(req);
    const argument = body['argument'];
    if (argument !== undefined && typeof argument !== 'string') {
      throw new ApiError(
        400,
        'INVALID_ARGUMENT',
        'argument must be a string holding JSON (e.g. "{\\"key\\": 1}")',
      );
    }
    sendJson(res, 200, toResource(store.start(ref, argument)));
    return;
  }
  if (id === undefined && req.method === 'GET') {
    const pageSize = Number(url.searchParams.get('pageSize') ?? DEFAULT_PAGE_SIZE);
    const offset = Number(url.searchParams.get('pageToken') ?? 0);
    if (!Number.isInteger(pageSize) || pageSize < 1 || !Number.isInteger(offset) || offset < 0) {
      throw new ApiError(
        400,
        'INVALID_ARGUMENT',
        'pageSize must be a positive integer and pageToken one this API returned',
      );
    }
    const all = store.list(ref);
    const page = all.slice(offset, offset + Math.min(pageSize, 1000));
    const next = offset + page.length;
    sendJson(res, 200, {
      executions: page.map(toResource),
      ...(next < all.length ? { nextPageToken: String(next) } : {}),
    });
    return;
  }
  if (id !== undefined && cancel !== undefined && req.method === 'POST') {
    sendJson(res, 200, toResource(store.cancel(`${parent}/executions/${id}`)));
    return;
  }
  if (id !== undefined && cancel === undefined && req.method === 'GET') {
    sendJson(res, 200, toResource(store.get(`${parent}/executions/${id}`)));
    return;
  }
  throw new ApiError(405, 'METHOD_NOT_ALLOWED', `${req.method} is not supported on ${path}`);
}

/** Loads the workflows (failing on any unsupported construct) and starts the API server. */
export async function startWorkflowsServer(options: WorkflowsServerOptions): Promise<WorkflowsServer> {
  const programs = new Map<string, Program>();
  for (const [id, file] of Object.entries(options.workflows)) {
    if (!WORKFLOW_ID.test(id)) throw new Error(`invalid workflow id ${JSON.stringify(id)}`);
    programs.set(id, loadWorkflowFile(file));
  }
  const store = new ExecutionStore({
    workflows: programs,
    ...(options.timeScale === undefined ? {} : { timeScale: options.timeScale }),
    ...(options.fractionalSleeps === undefined ? {} : { fractionalSleeps: options.fractionalSleeps }),
    ...(options.env === undefined ? {} : { env: options.env }),
    ...(options.stepLimit === undefined ? {} : { stepLimit: options.stepLimit }),
    ...(options.onLog === undefined ? {} : { onLog: options.onLog }),
    ...(options.oidcMinter === undefined ? {} : { oidcMinter: options.oidcMinter }),
  });
  const ids = [...programs.keys()];
  const createFailures: number[] = [];
  const server = createServer((req, res) => {
    handle(store, ids, createFailures, req, res).catch((error: unknown) => {
      if (error instanceof ApiError) {
        sendError(res, error);
        return;
      }
      sendError(
        res,
        new ApiError(500, 'INTERNAL', `local Workflows runner failed: ${(error as Error).message}`),
      );
    });
  });
  const { port, url } = await listen(server, options.port, options.host);
  return {
    url: `${url}/`,
    port,
    executions: store,
    failNextCreate(httpStatus: number, times = 1) {
      for (let i = 0; i < times; i += 1) createFailures.push(httpStatus);
    },
    async close() {
      await store.cancelAll();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
