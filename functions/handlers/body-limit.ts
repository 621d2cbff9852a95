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

export interface HttpLimits {
  readonly maxBytes: number;
  /** Methods the function answers; any other is refused with 405 before the handler runs. */
  readonly methods: readonly string[];
}

function refuse(res: Response, status: number, code: string, message: string, hint: string): void {
  res.set('connection', 'close');
  sendJson(res, status, { error: { code, message, hint } });
}

export function withHttpLimits(limits: HttpLimits, handler: HttpFunction): HttpFunction {
  return (req: Request, res: Response) => {
    if (!limits.methods.includes(req.method)) {
      res.set('allow', limits.methods.join(', '));
      return refuse(
        res,
        405,
        'METHOD_NOT_ALLOWED',
        'method not allowed',
        `use ${limits.methods.join(' or ')}`,
      );
    }
    const bytes = bodyBytes(req);
    if (bytes <= limits.maxBytes) return handler(req, res);
    return refuse(
      res,
      413,
      'BODY_TOO_LARGE',
      `request body of ${bytes} bytes is larger than ${limits.maxBytes}`,
      `send at most ${limits.maxBytes} bytes of JSON`,
    );
  };
}
