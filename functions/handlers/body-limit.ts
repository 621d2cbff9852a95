/**
 * Body size limits of the HTTP functions, answered with 413 in the structured error shape.
 *
 * What this can and cannot do, honestly: functions-framework (v5) installs body-parser with a
 * limit of 1024 MB in front of every function and offers no hook before it, so by the time a
 * handler runs the framework has already read the body and, for JSON, parsed it. The platform
 * bounds that read: Cloud Run refuses HTTP/1 requests over 32 MiB before they reach the
 * instance. The framework's read and JSON.parse are linear in the body; the limit here is what
 * keeps OUR work bounded: a declared Content-Length over the limit, or a body the framework read
 * that is over it (chunked uploads declare none), is refused before the handler looks at it, so
 * no schema, store access or log line ever sees more than the limit.
 */
import type { HttpFunction, Request, Response } from '@google-cloud/functions-framework';
import { sendJson } from './http.ts';

/** controlHttp: a command is a few short fields (app/control.ts CONTROL_LIMITS is 16 KB). */
export const CONTROL_HTTP_MAX_BYTES = 64 * 1024;
/** advanceRollout: {"rolloutId", "execution"} from the workflow. */
export const ADVANCE_ROLLOUT_MAX_BYTES = 4 * 1024;

/** Bytes the request says or shows it carries: the larger of Content-Length and what was read. */
export function bodyBytes(req: Request): number {
  const declared = Number(req.get('content-length') ?? 0);
  const read = req.rawBody?.byteLength ?? 0;
  return Math.max(Number.isFinite(declared) ? declared : 0, read);
}

export function withBodyLimit(maxBytes: number, handler: HttpFunction): HttpFunction {
  return (req: Request, res: Response) => {
    const bytes = bodyBytes(req);
    if (bytes <= maxBytes) return handler(req, res);
    res.set('connection', 'close');
    sendJson(res, 413, {
      error: {
        code: 'BODY_TOO_LARGE',
        message: `request body of ${bytes} bytes is larger than ${maxBytes}`,
        hint: `send at most ${maxBytes} bytes of JSON`,
        problems: [{ field: '$', rule: `must be at most ${maxBytes} bytes` }],
      },
    });
  };
}
