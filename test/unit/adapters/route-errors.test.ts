/** How failed Network Services calls and operations become RouteErrors. */
import { describe, expect, it } from 'vitest';
import { operationError, routeErrorFrom } from '../../../functions/adapters/route-errors.ts';
import { RouteError } from '../../../functions/ports/traffic-router.ts';

/** The shape of a GaxiosError for an API error response. */
function httpFailure(status: number, canonical: string, message: string) {
  return Object.assign(new Error(message), {
    status,
    code: status,
    response: { status, data: { error: { code: status, message, status: canonical } } },
  });
}

describe('routeErrorFrom', () => {
  it.each([
    [400, 'INVALID_ARGUMENT', 'invalidArgument'],
    [400, 'FAILED_PRECONDITION', 'invalidArgument'],
    [401, 'UNAUTHENTICATED', 'permissionDenied'],
    [403, 'PERMISSION_DENIED', 'permissionDenied'],
    [404, 'NOT_FOUND', 'notFound'],
    [409, 'ABORTED', 'conflict'],
    [409, 'ALREADY_EXISTS', 'conflict'],
    [429, 'RESOURCE_EXHAUSTED', 'transient'],
    [500, 'INTERNAL', 'transient'],
    [503, 'UNAVAILABLE', 'transient'],
    [504, 'DEADLINE_EXCEEDED', 'transient'],
  ] as const)('HTTP %i %s → %s', (status, canonical, kind) => {
    const error = routeErrorFrom(httpFailure(status, canonical, 'the API says why'), 'reading route r');
    expect(error.kind).toBe(kind);
    expect(error.message).toBe(`reading route r failed: HTTP ${status} ${canonical}: the API says why`);
    expect(error.hint).not.toBe('');
    expect(error.retryable).toBe(kind === 'transient' || kind === 'conflict');
  });

  it('treats a failure without a response as transient, naming the network error', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const error = routeErrorFrom(refused, 'reading route r');
    expect(error.kind).toBe('transient');
    expect(error.message).toContain('(ECONNREFUSED)');
  });

  it('treats missing credentials as permissionDenied with a hint about the service account', () => {
    const error = routeErrorFrom(new Error('Could not load the default credentials.'), 'reading route r');
    expect(error.kind).toBe('permissionDenied');
    expect(error.hint).toContain('service account');
  });

  it('passes a RouteError through unchanged', () => {
    const original = new RouteError('conflict', 'x', 'y');
    expect(routeErrorFrom(original, 'anything')).toBe(original);
  });
});

describe('operationError', () => {
  it.each([
    [3, 'invalidArgument'],
    [5, 'notFound'],
    [7, 'permissionDenied'],
    [9, 'invalidArgument'],
    [10, 'conflict'],
    [1, 'transient'],
    [4, 'transient'],
    [13, 'transient'],
    [14, 'transient'],
  ] as const)('gRPC code %i → %s', (code, kind) => {
    const error = operationError({ code, message: 'why' }, 'op-1', 'patching r');
    expect(error.kind).toBe(kind);
    expect(error.message).toBe(`patching r: operation op-1 failed with code ${code}: why`);
  });
});
