import { boundIssues, describeIssues, ECHO_LIMITS, echo, type FieldIssue } from './core/validation.ts';

/**
 * Typed errors. Each says what went wrong and what to do about it, and whether trying
 * again can help (`retryable`): transient faults are retried, bad input never is.
 */
export interface ErrorDetails {
  readonly code: string;
  /** What the caller or operator should do. */
  readonly hint: string;
  readonly cause?: unknown;
}

export class ControllerError extends Error {
  readonly code: string;
  readonly hint: string;
  readonly retryable: boolean;

  constructor(message: string, retryable: boolean, details: ErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = new.target.name;
    this.code = details.code;
    this.hint = details.hint;
    this.retryable = retryable;
  }
}

/** Input that can never succeed as sent (malformed message, route outside the allowlist, …). */
export class InvalidInputError extends ControllerError {
  readonly problems: readonly FieldIssue[];

  /** The message and problems are bounded and escaped here: they may echo the input. */
  constructor(message: string, problems: readonly FieldIssue[] = [], details?: Partial<ErrorDetails>) {
    super(echo(message, ECHO_LIMITS.message), false, {
      code: details?.code ?? 'INVALID_INPUT',
      hint: details?.hint ?? 'fix the input and send it again',
      cause: details?.cause,
    });
    this.problems = boundIssues(problems);
  }

  /** "`what`: field rule; field rule", naming every field to fix. */
  static fromIssues(
    what: string,
    issues: readonly FieldIssue[],
    details?: Partial<ErrorDetails>,
  ): InvalidInputError {
    return new InvalidInputError(`${what}: ${describeIssues(issues)}`, issues, details);
  }
}

/** Another writer changed the same thing first; reload and decide again. */
export class ConflictError extends ControllerError {
  constructor(message: string, details: ErrorDetails) {
    super(message, true, details);
  }
}

/** A dependency failed in a way that may pass (503, timeout, contention). */
export class TransientError extends ControllerError {
  constructor(message: string, details: ErrorDetails) {
    super(message, true, details);
  }
}

/** Refused for a reason trying again will not fix without a person (permissions, a locked route, …). */
export class RefusedError extends ControllerError {
  constructor(message: string, details: ErrorDetails) {
    super(message, false, details);
  }
}

export function isRetryable(error: unknown): boolean {
  return error instanceof ControllerError ? error.retryable : false;
}

/** The caller is not allowed to do this (authorization policy, driver list): HTTP 403. */
export class ForbiddenError extends RefusedError {
  /** The principals the caller was found to be (for the log line; never a token). */
  readonly principals: readonly string[];
  constructor(message: string, principals: readonly string[], hint?: string) {
    super(message, {
      code: 'FORBIDDEN',
      hint:
        hint ?? 'ask an administrator to grant this command on this route in AUTHZ_POLICY (docs/security.md)',
    });
    this.principals = principals;
  }
}

/** No acceptable ID token came with the request (missing, expired, wrong audience, bad signature): HTTP 401. */
export class UnauthenticatedError extends RefusedError {
  constructor(message: string, hint?: string) {
    super(message, {
      code: 'UNAUTHENTICATED',
      hint:
        hint ??
        'send a Google-signed ID token for this function (Authorization: Bearer $(gcloud auth print-identity-token --audiences=URL))',
    });
  }
}
