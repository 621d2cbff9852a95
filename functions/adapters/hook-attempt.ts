/**
 * One attempt of a hook call over node:http(s): one connection (no pooling, no redirects
 * followed), to a pinned address when the caller vetted one (so DNS cannot answer differently
 * between the check and the connection), bounded by a timeout that covers the whole answer, and
 * reading at most `maxBytes` of it.
 */
import type { LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';

export type AttemptOutcome =
  | {
      readonly kind: 'answer';
      readonly code: number;
      readonly contentType: string;
      /** The answer (its first `maxBytes` when oversized). */
      readonly body: string;
      readonly oversized: boolean;
    }
  | { readonly kind: 'timeout'; readonly detail: string }
  | { readonly kind: 'unreachable'; readonly detail: string };

export interface AttemptRequest {
  readonly url: URL;
  readonly method: 'POST' | 'PUT' | 'GET';
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string | null;
  readonly timeoutMs: number;
  /** Connect to this address only (null: resolve the URL's host as usual). */
  readonly address: LookupAddress | null;
  readonly maxBytes: number;
}

function pinnedLookup(pinned: LookupAddress): LookupFunction {
  return (_hostname, options, callback) => {
    if (options.all === true) callback(null, [pinned]);
    else callback(null, pinned.address, pinned.family);
  };
}

export function sendAttempt(attempt: AttemptRequest): Promise<AttemptOutcome> {
  return new Promise((resolve) => {
    const signal = AbortSignal.timeout(attempt.timeoutMs);
    let settled = false;
    const finish = (outcome: AttemptOutcome): void => {
      if (settled) return;
      settled = true;
      resolve(outcome);
    };
    const send = attempt.url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(attempt.url, {
      method: attempt.method,
      headers: attempt.headers,
      agent: false,
      ...(attempt.address === null ? {} : { lookup: pinnedLookup(attempt.address) }),
    });
    signal.addEventListener('abort', () => {
      finish({ kind: 'timeout', detail: `no complete answer within ${attempt.timeoutMs} ms` });
      request.destroy();
    });
    request.on('error', (error: NodeJS.ErrnoException) => {
      finish({ kind: 'unreachable', detail: `no connection: ${error.code ?? error.message}` });
    });
    request.on('response', (response) => readAnswer(response, attempt.maxBytes, finish));
    request.end(attempt.body ?? undefined);
  });
}

function readAnswer(
  response: IncomingMessage,
  maxBytes: number,
  finish: (outcome: AttemptOutcome) => void,
): void {
  const code = response.statusCode ?? 0;
  const contentType = response.headers['content-type'] ?? '';
  const chunks: Buffer[] = [];
  let size = 0;
  const answer = (oversized: boolean): AttemptOutcome => ({
    kind: 'answer',
    code,
    contentType,
    body: Buffer.concat(chunks).subarray(0, maxBytes).toString('utf8'),
    oversized,
  });
  response.on('data', (chunk: Buffer) => {
    size += chunk.length;
    chunks.push(chunk);
    if (size > maxBytes) {
      finish(answer(true));
      response.destroy();
    }
  });
  response.on('end', () => finish(answer(false)));
  response.on('error', (error: NodeJS.ErrnoException) => {
    finish({
      kind: 'unreachable',
      detail: `connection lost during the answer: ${error.code ?? error.message}`,
    });
  });
  response.on('close', () => {
    if (!response.complete) {
      finish({ kind: 'unreachable', detail: `connection closed during the answer (HTTP ${code})` });
    }
  });
}
