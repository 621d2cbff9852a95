/**
 * Errors of the local Network Services API in the real API's JSON shape:
 * `{"error":{"code":400,"message":"…","status":"INVALID_ARGUMENT"}}`, and as a
 * google.rpc.Status (`{code, message}` with the gRPC code) inside a failed operation.
 */

export type CanonicalStatus =
  | 'CANCELLED'
  | 'UNKNOWN'
  | 'INVALID_ARGUMENT'
  | 'DEADLINE_EXCEEDED'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'FAILED_PRECONDITION'
  | 'ABORTED'
  | 'OUT_OF_RANGE'
  | 'UNIMPLEMENTED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'DATA_LOSS'
  | 'UNAUTHENTICATED';

/** gRPC code and HTTP status of each canonical status (google/rpc/code.proto). */
const CODES: Record<CanonicalStatus, { readonly grpc: number; readonly http: number }> = {
  CANCELLED: { grpc: 1, http: 499 },
  UNKNOWN: { grpc: 2, http: 500 },
  INVALID_ARGUMENT: { grpc: 3, http: 400 },
  DEADLINE_EXCEEDED: { grpc: 4, http: 504 },
  NOT_FOUND: { grpc: 5, http: 404 },
  ALREADY_EXISTS: { grpc: 6, http: 409 },
  PERMISSION_DENIED: { grpc: 7, http: 403 },
  RESOURCE_EXHAUSTED: { grpc: 8, http: 429 },
  FAILED_PRECONDITION: { grpc: 9, http: 400 },
  ABORTED: { grpc: 10, http: 409 },
  OUT_OF_RANGE: { grpc: 11, http: 400 },
  UNIMPLEMENTED: { grpc: 12, http: 501 },
  INTERNAL: { grpc: 13, http: 500 },
  UNAVAILABLE: { grpc: 14, http: 503 },
  DATA_LOSS: { grpc: 15, http: 500 },
  UNAUTHENTICATED: { grpc: 16, http: 401 },
};

/** The canonical status Google APIs answer with for an HTTP status. */
const BY_HTTP: Record<number, CanonicalStatus> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export function statusForHttp(http: number): CanonicalStatus {
  const status = BY_HTTP[http];
  if (status === undefined) {
    throw new RangeError(
      `no canonical status answers HTTP ${http}; use one of ${Object.keys(BY_HTTP).join(', ')}`,
    );
  }
  return status;
}

export function grpcCodeOf(status: CanonicalStatus): number {
  return CODES[status].grpc;
}

export interface ErrorBody {
  readonly error: { readonly code: number; readonly message: string; readonly status: CanonicalStatus };
}

export class ApiError extends Error {
  readonly status: CanonicalStatus;

  constructor(status: CanonicalStatus, message: string) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }

  /** Any failure as the API reports it: an ApiError as it is, anything else as INTERNAL. */
  static from(error: unknown): ApiError {
    return error instanceof ApiError
      ? error
      : new ApiError('INTERNAL', `Internal error: ${(error as Error).message}`);
  }

  get httpStatus(): number {
    return CODES[this.status].http;
  }

  body(): ErrorBody {
    return { error: { code: this.httpStatus, message: this.message, status: this.status } };
  }

  /** As the `error` of a finished operation (google.rpc.Status). */
  rpcStatus(): { code: number; message: string } {
    return { code: CODES[this.status].grpc, message: this.message };
  }
}

export function invalidArgument(message: string): ApiError {
  return new ApiError('INVALID_ARGUMENT', message);
}

export function notFound(message: string): ApiError {
  return new ApiError('NOT_FOUND', message);
}
