/**
 * The one classifier of failed Google API calls: gRPC clients (Firestore, Monitoring, Pub/Sub)
 * put a google.rpc.Code on the error; REST clients (googleapis/gaxios: Network Services,
 * Workflow Executions) an HTTP status and Google's error body; a failed long-running operation
 * carries a google.rpc.Status. Each is read here, the same code means the same kind everywhere,
 * and each adapter turns the kind into its own typed error with a hint for its API.
 *
 * Retrying helps for `transient` (UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, INTERNAL,
 * UNKNOWN, CANCELLED, DATA_LOSS, HTTP 408/429/5xx, no answer at all) and `conflict` (ABORTED,
 * ALREADY_EXISTS: another writer was first; read again and decide). Everything else needs a person.
 */

export type FailureKind =
  | 'transient'
  | 'conflict'
  | 'notFound'
  | 'permissionDenied'
  | 'unauthenticated'
  | 'invalidArgument';

export interface GoogleFailure {
  readonly kind: FailureKind;
  /** How it was reported and what the API said: "HTTP 503 UNAVAILABLE: …", "gRPC 14 UNAVAILABLE: …". */
  readonly detail: string;
  /** google.rpc.Code, when the failure carried one. */
  readonly grpcCode: number | null;
  /** HTTP status, when the failure was an HTTP answer. */
  readonly httpStatus: number | null;
  /** Google's canonical status name (e.g. FAILED_PRECONDITION), when known. */
  readonly status: string | null;
}

/** google.rpc.Code by number. */
const CODE_NAMES = [
  'OK',
  'CANCELLED',
  'UNKNOWN',
  'INVALID_ARGUMENT',
  'DEADLINE_EXCEEDED',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED',
  'FAILED_PRECONDITION',
  'ABORTED',
  'OUT_OF_RANGE',
  'UNIMPLEMENTED',
  'INTERNAL',
  'UNAVAILABLE',
  'DATA_LOSS',
  'UNAUTHENTICATED',
] as const;

const KIND_BY_STATUS: Readonly<Record<string, FailureKind>> = {
  CANCELLED: 'transient',
  UNKNOWN: 'transient',
  INVALID_ARGUMENT: 'invalidArgument',
  DEADLINE_EXCEEDED: 'transient',
  NOT_FOUND: 'notFound',
  ALREADY_EXISTS: 'conflict',
  PERMISSION_DENIED: 'permissionDenied',
  RESOURCE_EXHAUSTED: 'transient',
  FAILED_PRECONDITION: 'invalidArgument',
  ABORTED: 'conflict',
  OUT_OF_RANGE: 'invalidArgument',
  UNIMPLEMENTED: 'invalidArgument',
  INTERNAL: 'transient',
  UNAVAILABLE: 'transient',
  DATA_LOSS: 'transient',
  UNAUTHENTICATED: 'unauthenticated',
};

/** Client errors repeat the API's text once per retry attempt; keep what reaches logs bounded. */
const MAX_TEXT = 600;

function bounded(text: string): string {
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}

/** The kind of a google.rpc.Code (unknown codes are transient: the harsher reading for a rollback). */
export function kindOfCode(code: number): FailureKind {
  return KIND_BY_STATUS[CODE_NAMES[code] ?? 'UNKNOWN'] ?? 'transient';
}

function kindOfHttp(status: number, canonical: string | null): FailureKind {
  if (status === 401) return 'unauthenticated';
  if (status === 403) return 'permissionDenied';
  if (status === 404) return 'notFound';
  if (status === 409 || canonical === 'ABORTED' || canonical === 'ALREADY_EXISTS') return 'conflict';
  if (status === 408 || status === 429 || status >= 500) return 'transient';
  return 'invalidArgument';
}

/** Whether a failure without an answer is about credentials rather than the network. */
function credentialProblem(message: string): boolean {
  return /default credentials|could not refresh access token|invalid_grant|unauthorized_client/i.test(
    message,
  );
}

interface RawFailure {
  readonly code?: unknown;
  readonly status?: unknown;
  readonly details?: unknown;
  readonly message?: unknown;
  readonly response?: { readonly status?: unknown; readonly data?: unknown };
}

/** Google's error body: {"error": {"message": …, "status": "NOT_FOUND"}}. */
function errorBody(data: unknown): { message: string | null; status: string | null } {
  const error = typeof data === 'object' && data !== null && 'error' in data ? data.error : null;
  if (typeof error !== 'object' || error === null) return { message: null, status: null };
  return {
    message: 'message' in error && typeof error.message === 'string' ? error.message : null,
    status: 'status' in error && typeof error.status === 'string' ? error.status : null,
  };
}

function textOf(raw: RawFailure, error: unknown): string {
  if (typeof raw.details === 'string' && raw.details !== '') return raw.details;
  return typeof raw.message === 'string' ? raw.message : String(error);
}

export function classifyGoogleError(error: unknown): GoogleFailure {
  const raw = (typeof error === 'object' && error !== null ? error : {}) as RawFailure;
  const text = textOf(raw, error);
  const httpStatus = typeof raw.response?.status === 'number' ? raw.response.status : raw.status;
  if (typeof httpStatus === 'number') {
    const body = errorBody(raw.response?.data);
    const kind = kindOfHttp(httpStatus, body.status);
    const label = `HTTP ${httpStatus}${body.status ? ` ${body.status}` : ''}`;
    const detail = `${label}: ${bounded(body.message ?? text)}`;
    return { kind, detail, grpcCode: null, httpStatus, status: body.status };
  }
  if (typeof raw.code === 'number') {
    const status = CODE_NAMES[raw.code] ?? null;
    const detail = `gRPC ${raw.code}${status ? ` ${status}` : ''}: ${bounded(text)}`;
    return { kind: kindOfCode(raw.code), detail, grpcCode: raw.code, httpStatus: null, status };
  }
  if (credentialProblem(text)) {
    return { kind: 'unauthenticated', detail: bounded(text), grpcCode: null, httpStatus: null, status: null };
  }
  const transport = typeof raw.code === 'string' ? ` (${raw.code})` : '';
  const detail = `no answer from the API${transport}: ${bounded(text)}`;
  return { kind: 'transient', detail, grpcCode: null, httpStatus: null, status: null };
}
