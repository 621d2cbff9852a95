/**
 * A local stand-in for the IAM Credentials API's `generateIdToken`
 * (POST /v1/projects/-/serviceAccounts/{email}:generateIdToken {audience, includeEmail}), which
 * signs RS256 ID tokens like Google's with a key generated at start, and serves the public key
 * as a JWKS at /oauth2/v3/certs (Google: https://www.googleapis.com/oauth2/v3/certs). Errors come
 * in Google's JSON shape. Point the `googleapis` iamcredentials client at `url` (rootUrl) with no auth.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen, sendJson } from '../net.ts';
import { ApiError, invalidArgument, notFound } from '../network-services/api-error.ts';
import { TokenSigner } from './signer.ts';

/** The identity hooks are called as in a project (infra/: the rollout-hooks service account). */
export function hooksServiceAccount(project: string): string {
  return `rollout-hooks@${project}.iam.gserviceaccount.com`;
}

export const DEFAULT_HOOKS_SERVICE_ACCOUNT = hooksServiceAccount('demo-project');
export const JWKS_PATH = '/oauth2/v3/certs';

export interface IamServerOptions {
  /** Service accounts that exist (default: the demo's rollout-hooks account). */
  readonly serviceAccounts?: readonly string[];
  readonly port?: number;
}

export interface MintedToken {
  readonly serviceAccount: string;
  readonly audience: string;
}

export interface IamServer {
  /** Root URL for the client's `rootUrl` (ends with a slash). */
  readonly url: string;
  /** Where the signing keys are served. */
  readonly jwksUrl: string;
  readonly signer: TokenSigner;
  /** Every token minted, in order. */
  readonly minted: readonly MintedToken[];
  close(): Promise<void>;
}

const PATH = /^\/v1\/projects\/([^/]+)\/serviceAccounts\/([^/:]+):generateIdToken$/;
const MAX_BODY_BYTES = 64 * 1024;

interface Context {
  readonly accounts: ReadonlySet<string>;
  readonly signer: TokenSigner;
  readonly minted: MintedToken[];
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw invalidArgument(`Request body larger than ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let parsed: unknown;
  try {
    parsed = text.trim() === '' ? {} : JSON.parse(text);
  } catch (error) {
    throw invalidArgument(`Invalid JSON payload received. ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidArgument('Invalid JSON payload received. The request body must be a JSON object.');
  }
  return parsed as Record<string, unknown>;
}

async function generateIdToken(ctx: Context, req: IncomingMessage, match: RegExpExecArray): Promise<unknown> {
  const project = decodeURIComponent(match[1] ?? '');
  const email = decodeURIComponent(match[2] ?? '');
  if (project !== '-') {
    throw invalidArgument('The `-` wildcard character is required for the project in the resource name.');
  }
  const body = await readJson(req);
  const audience = body['audience'];
  if (typeof audience !== 'string' || audience === '') {
    throw invalidArgument('Invalid value for audience: the audience must be set.');
  }
  if (!ctx.accounts.has(email)) throw notFound(`Not found; Gaia id not found for email ${email}`);
  ctx.minted.push({ serviceAccount: email, audience });
  return { token: ctx.signer.idToken(email, audience, body['includeEmail'] === true) };
}

async function handle(ctx: Context, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method === 'GET' && url.pathname === JWKS_PATH) {
      sendJson(res, 200, ctx.signer.jwks());
      return;
    }
    const match = PATH.exec(url.pathname);
    if (match === null || req.method !== 'POST') {
      throw notFound(`The requested URL ${url.pathname} was not found on this server.`);
    }
    sendJson(res, 200, await generateIdToken(ctx, req, match));
  } catch (error) {
    const apiError = ApiError.from(error);
    sendJson(res, apiError.httpStatus, apiError.body());
  }
}

export async function startIamServer(options: IamServerOptions = {}): Promise<IamServer> {
  const ctx: Context = {
    accounts: new Set(options.serviceAccounts ?? [DEFAULT_HOOKS_SERVICE_ACCOUNT]),
    signer: new TokenSigner(),
    minted: [],
  };
  const server = createServer((req, res) => {
    void handle(ctx, req, res);
  });
  const { url } = await listen(server, options.port);
  return {
    url: `${url}/`,
    jwksUrl: `${url}${JWKS_PATH}`,
    signer: ctx.signer,
    minted: ctx.minted,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
