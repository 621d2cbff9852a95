/**
 * A scriptable hook target for tests: answers each call as scripted (status, delay, body,
 * content type, a slow or oversized body, a dropped connection) and records what it received,
 * including whether the bearer token verified against the local IAM stand-in's JWKS and for
 * which audience.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { idTokenVerifier, type Verification } from '../../local/iam/verify.ts';
import { listen } from '../../local/net.ts';

export interface HookAnswer {
  /** Default 200. */
  readonly status?: number;
  /** Wait this long before answering at all. */
  readonly delayMs?: number;
  /** An object is sent as JSON; default `{"ok":true}`. */
  readonly body?: string | object;
  /** Default: application/json for an object body, text/plain for a string. */
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** Send the headers and the body's first byte at once, the rest after this long. */
  readonly bodyDelayMs?: number;
  /** Send this many bytes of "x" instead of the body (streamed, no content-length). */
  readonly oversizedBytes?: number;
  /** Drop the connection without answering. */
  readonly close?: boolean;
}

export interface RecordedToken {
  readonly present: boolean;
  readonly verified: boolean;
  /** The token's `aud` (read even when it did not verify), or null. */
  readonly audience: string | null;
  readonly email: string | null;
  readonly reason: string | null;
}

export interface RecordedCall {
  readonly method: string;
  readonly path: string;
  readonly headers: IncomingMessage['headers'];
  /** The raw body text ('' for none). */
  readonly text: string;
  /** The body parsed as JSON, or null when it is not JSON. */
  readonly body: unknown;
  readonly token: RecordedToken;
  /** When the request (its body read) arrived, ms since the epoch. */
  readonly receivedAt: number;
  /** When the answer ended (or the connection was dropped); null until then. */
  readonly answeredAt: number | null;
}

export interface HookServer {
  /** Origin (the tokens' expected audience). */
  readonly origin: string;
  /** A hook URL on this server. */
  readonly url: string;
  readonly calls: RecordedCall[];
  /** Answers for the next calls, in order; after them, the default. */
  script(...answers: HookAnswer[]): void;
  setDefault(answer: HookAnswer): void;
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function audienceOf(authorization: string | undefined): string | null {
  const payload = /^Bearer [^.]+\.([^.]+)\./.exec(authorization ?? '')?.[1];
  if (payload === undefined) return null;
  try {
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { aud?: unknown };
    return typeof claims.aud === 'string' ? claims.aud : null;
  } catch {
    return null;
  }
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

async function answer(res: ServerResponse, a: HookAnswer): Promise<void> {
  if (a.delayMs) await sleep(a.delayMs);
  if (a.close) {
    res.socket?.destroy();
    return;
  }
  const body = a.body ?? { ok: true };
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const contentType = a.contentType ?? (typeof body === 'string' ? 'text/plain' : 'application/json');
  res.writeHead(a.status ?? 200, { 'content-type': contentType, ...a.headers });
  if (a.oversizedBytes !== undefined) {
    const chunk = Buffer.alloc(16 * 1024, 'x');
    for (let sent = 0; sent < a.oversizedBytes && !res.destroyed; sent += chunk.length) {
      if (!res.write(chunk))
        await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
    }
    res.end();
    return;
  }
  if (a.bodyDelayMs) {
    res.write(text.slice(0, 1));
    await sleep(a.bodyDelayMs);
    if (!res.destroyed) res.end(text.slice(1));
    return;
  }
  res.end(text);
}

export async function startHookServer(options: { readonly jwksUrl?: string } = {}): Promise<HookServer> {
  const queue: HookAnswer[] = [];
  let fallback: HookAnswer = {};
  const calls: RecordedCall[] = [];
  let origin = '';
  let verify: ((authorization: string | undefined) => Promise<Verification>) | null = null;
  const server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      const authorization = req.headers.authorization;
      const checked = verify === null ? null : await verify(authorization);
      const call: { -readonly [K in keyof RecordedCall]: RecordedCall[K] } = {
        receivedAt: Date.now(),
        answeredAt: null,
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        text,
        body: parsed(text),
        token: {
          present: authorization !== undefined,
          verified: checked?.ok === true,
          audience: audienceOf(authorization),
          email: checked?.ok === true ? (checked.claims.email ?? null) : null,
          reason: checked === null ? 'not checked (no JWKS)' : checked.ok ? null : checked.reason,
        },
      };
      calls.push(call);
      await answer(res, queue.shift() ?? fallback);
      call.answeredAt = Date.now();
    })().catch(() => res.socket?.destroy());
  });
  const { url } = await listen(server);
  origin = url;
  if (options.jwksUrl !== undefined) verify = idTokenVerifier({ jwksUrl: options.jwksUrl, audience: origin });
  return {
    origin,
    url: `${origin}/hook`,
    calls,
    script: (...answers) => {
      queue.push(...answers);
    },
    setDefault: (a) => {
      fallback = a;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
