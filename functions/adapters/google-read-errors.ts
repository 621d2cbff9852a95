/**
 * Failures of read-only calls rolloutctl plan makes (alert policies, permissions) as typed errors:
 * unreachable or throttled is transient (exit 5); everything else is a refusal naming the API.
 */
import { type ControllerError, RefusedError, TransientError } from '../errors.ts';
import { classifyGoogleError } from './google-errors.ts';

export function readErrorFrom(error: unknown, action: string, permissionHint: string): ControllerError {
  const failure = classifyGoogleError(error);
  const message = `${action} failed: ${failure.detail}`;
  if (failure.kind === 'transient' || failure.kind === 'conflict') {
    return new TransientError(message, { code: 'UNAVAILABLE', hint: 'retry later', cause: error });
  }
  const code =
    failure.kind === 'permissionDenied' ? 'PERMISSION_DENIED' : `READ_${failure.kind.toUpperCase()}`;
  return new RefusedError(message, { code, hint: permissionHint, cause: error });
}
