/**
 * http.get|post|put|patch|delete|request with real HTTP (fetch).
 *
 * `auth: {type: OIDC, audience?}` sends `Authorization: Bearer` with an ID token of the execution's
 * service account for `audience` (default: the URL, as in Workflows) when the runner was given a
 * way to mint one (the local IAM stand-in); `OAuth2` is validated but no token is sent.
 */
import { ExecutionCancelled, raiseError } from './errors.ts';
import type { CallTarget } from './program.ts';
import { isMap, toValue, typeName, type Value, type ValueMap } from './values.ts';

export const DEFAULT_TIMEOUT_SECONDS = 300;
const MAX_TIMEOUT_SECONDS = 1800;
const MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
const METHODS = new Set(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS']);
/** Errors before any answer: the connection could not be made at all. */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

export interface HttpContext {
  /** Aborted when the execution is cancelled. */
  readonly signal: AbortSignal;
  readonly fetch: typeof fetch;
  /** Mints the execution's OIDC ID token for an audience; absent: none is sent. */
  readonly oidcToken?: (audience: string) => Promise<string>;
}

/** Mints an ID token of `serviceAccount` for `audience` (the local IAM stand-in's signer). */
export type OidcMinter = (serviceAccount: string, audience: string) => Promise<string>;

function argString(args: ValueMap, name: string, target: string): string {
  const v = args[name];
  if (typeof v !== 'string')
    throw raiseError('TypeError', `${target}: "${name}" must be a string, got ${typeName(v ?? null)}`);
  return v;
}

function scalarText(v: Value, what: string): string {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw raiseError('TypeError', `${what} must be a string, number or boolean, got ${typeName(v)}`);
}

function requestUrl(args: ValueMap, target: string): URL {
  let url: URL;
  try {
    url = new URL(argString(args, 'url', target));
  } catch {
    throw raiseError('ValueError', `${target}: invalid url ${JSON.stringify(args['url'])}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw raiseError('ValueError', `${target}: only http and https URLs are supported`);
  }
  const query = args['query'];
  if (query !== undefined && query !== null) {
    if (!isMap(query)) throw raiseError('TypeError', `${target}: "query" must be a map`);
    for (const [key, value] of Object.entries(query)) {
      for (const item of Array.isArray(value) ? value : [value]) {
        url.searchParams.append(key, scalarText(item, `query parameter ${key}`));
      }
    }
  }
  return url;
}

function requestHeaders(args: ValueMap, target: string): Headers {
  const headers = new Headers();
  const raw = args['headers'];
  if (raw === undefined || raw === null) return headers;
  if (!isMap(raw)) throw raiseError('TypeError', `${target}: "headers" must be a map`);
  for (const [key, value] of Object.entries(raw)) headers.set(key, scalarText(value, `header ${key}`));
  return headers;
}

/** The OIDC audience to send a token for, or null (no auth, OAuth2). */
function checkAuth(args: ValueMap, target: string, url: URL): string | null {
  const auth = args['auth'];
  if (auth === undefined || auth === null) return null;
  const type = isMap(auth) ? auth['type'] : null;
  if (type !== 'OIDC' && type !== 'OAuth2') {
    throw raiseError('ValueError', `${target}: auth.type must be OIDC or OAuth2`);
  }
  if (type === 'OAuth2') return null;
  const audience = isMap(auth) ? auth['audience'] : undefined;
  if (audience !== undefined && typeof audience !== 'string') {
    throw raiseError('TypeError', `${target}: auth.audience must be a string`);
  }
  return audience ?? `${url.origin}${url.pathname}`;
}

function timeoutMs(args: ValueMap, target: string): number {
  const t = args['timeout'] ?? DEFAULT_TIMEOUT_SECONDS;
  if (typeof t !== 'number' || t <= 0 || t > MAX_TIMEOUT_SECONDS) {
    throw raiseError(
      'ValueError',
      `${target}: timeout must be a number of seconds in (0, ${MAX_TIMEOUT_SECONDS}]`,
    );
  }
  return t * 1000;
}

function decodeBody(text: string, contentType: string): Value {
  if (text === '') return null;
  if (/\bjson\b/i.test(contentType)) {
    try {
      return toValue(JSON.parse(text));
    } catch {
      return text;
    }
  }
  return text;
}

function connectionError(error: unknown, target: string, url: URL): Error {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  const code = typeof cause?.code === 'string' ? cause.code : '';
  const detail = typeof cause?.message === 'string' ? cause.message : (error as Error).message;
  if (CONNECT_FAILURES.has(code)) {
    return raiseError('ConnectionFailedError', `${target} ${url.origin}: connection failed (${detail})`);
  }
  return raiseError('ConnectionError', `${target} ${url.origin}: the connection broke (${detail})`);
}

export async function httpCall(target: CallTarget, args: ValueMap, ctx: HttpContext): Promise<Value> {
  const method =
    target === 'http.request'
      ? argString(args, 'method', target).toUpperCase()
      : target.slice(5).toUpperCase();
  if (!METHODS.has(method)) throw raiseError('ValueError', `${target}: unsupported method ${method}`);
  const url = requestUrl(args, target);
  const headers = requestHeaders(args, target);
  const audience = checkAuth(args, target, url);
  if (audience !== null && ctx.oidcToken !== undefined) {
    headers.set('authorization', `Bearer ${await ctx.oidcToken(audience)}`);
  }
  const timeout = AbortSignal.timeout(timeoutMs(args, target));
  let body: string | undefined;
  const raw = args['body'];
  if (raw !== undefined && raw !== null) {
    const contentType = headers.get('content-type');
    if (typeof raw === 'string' && contentType !== null && !/\bjson\b/i.test(contentType)) {
      body = raw;
    } else {
      body = JSON.stringify(raw);
      if (contentType === null) headers.set('content-type', 'application/json; charset=utf-8');
    }
  }

  let response: Response;
  let text: string;
  try {
    response = await ctx.fetch(url, {
      method,
      headers,
      ...(body === undefined ? {} : { body }),
      signal: AbortSignal.any([ctx.signal, timeout]),
    });
    text = await response.text();
  } catch (error) {
    if (ctx.signal.aborted) throw new ExecutionCancelled();
    if (timeout.aborted) {
      throw raiseError(
        'TimeoutError',
        `${target} ${url.origin}: no answer within ${timeoutMs(args, target) / 1000} s`,
      );
    }
    throw connectionError(error, target, url);
  }
  if (Buffer.byteLength(text) > MAX_RESPONSE_BYTES) {
    throw raiseError('ResourceLimitError', `${target} ${url.origin}: the response exceeds 2 MB`);
  }
  const responseHeaders: ValueMap = {};
  response.headers.forEach((value, key) => {
    responseHeaders[key.toLowerCase()] = value;
  });
  const decoded = decodeBody(text, response.headers.get('content-type') ?? '');
  if (response.status >= 400) {
    throw raiseError('HttpError', `HTTP server responded with error code ${response.status}`, {
      code: response.status,
      headers: responseHeaders,
      body: decoded,
    });
  }
  return { code: response.status, headers: responseHeaders, body: decoded };
}
