/** JSON answers for the HTTP functions, with errors in one shape: {error: {code, message, hint}}. */
import type { Request, Response } from '@google-cloud/functions-framework';
import { PolicyRefusal } from '../app/authorize.ts';
import { type Logger, traceFields } from '../app/log.ts';
import {
  ControllerError,
  ForbiddenError,
  InvalidInputError,
  RefusedError,
  UnauthenticatedError,
} from '../errors.ts';
import type { Runtime } from '../runtime.ts';

/** The function's logger for one request, grouped under the request's trace. */
export function requestLog(rt: Runtime, functionName: string, req: Request): Logger {
  return rt.log.child({
    function: functionName,
    ...traceFields(rt.config.project, req.get('traceparent'), req.get('x-cloud-trace-context')),
  });
}

export function sendJson(res: Response, status: number, body: unknown): void {
  res.status(status).set('content-type', 'application/json').send(JSON.stringify(body));
}

export function sendError(res: Response, error: unknown, log: Logger): void {
  if (error instanceof InvalidInputError) {
    log.error(error.message, { code: error.code, hint: error.hint, problems: error.problems });
    sendJson(res, 400, {
      error: { code: error.code, message: error.message, hint: error.hint, problems: error.problems },
    });
    return;
  }
  if (error instanceof ControllerError) {
    const status = error.retryable
      ? 503
      : error.code === 'ROLLOUT_NOT_FOUND'
        ? 404
        : error instanceof UnauthenticatedError
          ? 401
          : error instanceof ForbiddenError
            ? 403
            : error instanceof RefusedError
              ? 409
              : 500;
    // A refusal of the authorization policy was logged (WARNING, with the principals) where made.
    if (!(error instanceof PolicyRefusal)) {
      (error.retryable ? log.warn : log.error)(error.message, { code: error.code, hint: error.hint });
    }
    if (error.retryable) res.set('retry-after', '1');
    sendJson(res, status, { error: { code: error.code, message: error.message, hint: error.hint } });
    return;
  }
  log.error(`unexpected failure: ${(error as Error).message}`, { error });
  sendJson(res, 500, {
    error: { code: 'INTERNAL', message: 'unexpected failure; see the function logs', hint: 'retry' },
  });
}

export function bodyObject(body: unknown): Record<string, unknown> {
  if (typeof body === 'object' && body !== null && !Array.isArray(body))
    return body as Record<string, unknown>;
  throw new InvalidInputError(
    'request body must be a JSON object',
    [{ field: '$', rule: 'must be a JSON object' }],
    {
      code: 'INVALID_BODY',
      hint: 'send Content-Type: application/json with a JSON object',
    },
  );
}
