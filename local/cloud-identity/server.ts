/**
 * A local stand-in for the two Cloud Identity Groups API v1 methods the controller calls to
 * resolve `group:` principals (docs/security.md#groups), on the real REST wire format:
 *
 * - `GET /v1/groups:lookup?groupKey.id=EMAIL` → `{"name": "groups/ID"}`
 * - `GET /v1/groups/ID/memberships:checkTransitiveMembership?query=member_key_id == 'EMAIL'`
 *   → `{"hasMembership": true|false}` (nested groups count)
 *
 * Errors come in Google's JSON shape (`{"error": {"code", "message", "status"}}`): an unknown
 * group is 404 NOT_FOUND, a bad query 400 INVALID_ARGUMENT. Tests inject failures (`fail`): an
 * HTTP status for the next requests (e.g. 503, 403), or `hang` (no answer until closed). Point
 * the `googleapis` cloudidentity client at `url` (rootUrl) with no auth.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listen, sendJson } from '../net.ts';
import { ApiError, invalidArgument, notFound, statusForHttp } from '../network-services/api-error.ts';
import { GroupDirectory, type GroupMembers, memberOfQuery } from './directory.ts';

/** The local stack's groups: operators through a nested on-call group (docs/local-cloud.md). */
export const DEMO_GROUPS: GroupMembers = {
  'rollout-operators@demo-project.test': ['oncall@demo-project.test', 'lead@demo-project.test'],
  'oncall@demo-project.test': ['operator@demo-project.test'],
};

export interface CloudIdentityServerOptions {
  /** Group email → direct members (users, service accounts, other groups). Default: DEMO_GROUPS. */
  readonly groups?: GroupMembers;
  readonly port?: number;
}

/** One request the stand-in answered (for tests counting calls). */
export interface IdentityRequest {
  readonly method: 'lookup' | 'checkTransitiveMembership';
  /** The group's email (lookup) or resource name (check). */
  readonly group: string;
  readonly member: string | null;
}

export interface FaultOptions {
  /** Only requests about this group (its email); default: every request. */
  readonly group?: string;
  /** How many requests fail; default: until `clearFaults`. */
  readonly times?: number;
}

export interface CloudIdentityServer {
  /** Root URL for the client's `rootUrl` (ends with a slash). */
  readonly url: string;
  readonly directory: GroupDirectory;
  readonly requests: readonly IdentityRequest[];
  /** Answers matching requests with this HTTP status in Google's error shape, or never (`hang`). */
  fail(status: number | 'hang', options?: FaultOptions): void;
  clearFaults(): void;
  close(): Promise<void>;
}

interface Fault {
  readonly status: number | 'hang';
  readonly group: string | null;
  remaining: number;
}

interface Context {
  readonly directory: GroupDirectory;
  readonly requests: IdentityRequest[];
  readonly faults: Fault[];
}

const CHECK_PATH = /^\/v1\/(groups\/[^/:]+)\/memberships:checkTransitiveMembership$/;

function parse(url: URL, directory: GroupDirectory): IdentityRequest {
  if (url.pathname === '/v1/groups:lookup') {
    const id = url.searchParams.get('groupKey.id');
    if (id === null || id === '')
      throw invalidArgument('Request contains an invalid argument: groupKey.id is required.');
    return { method: 'lookup', group: id, member: null };
  }
  const match = CHECK_PATH.exec(url.pathname);
  if (match === null) throw notFound(`The requested URL ${url.pathname} was not found on this server.`);
  const group = decodeURIComponent(match[1] ?? '');
  const member = memberOfQuery(url.searchParams.get('query') ?? '');
  if (member === null) {
    throw invalidArgument("Request contains an invalid argument: query must be member_key_id == 'EMAIL'.");
  }
  return { method: 'checkTransitiveMembership', group: directory.emailOf(group) ?? group, member };
}

/** The fault this request meets, if any (consuming one of its `times`). */
function faultFor(ctx: Context, request: IdentityRequest): Fault | null {
  const index = ctx.faults.findIndex((f) => f.group === null || f.group === request.group.toLowerCase());
  const fault = ctx.faults[index];
  if (fault === undefined) return null;
  fault.remaining -= 1;
  if (fault.remaining <= 0) ctx.faults.splice(index, 1);
  return fault;
}

function answer(directory: GroupDirectory, request: IdentityRequest, url: URL): unknown {
  if (request.method === 'lookup') {
    const name = directory.nameOf(request.group);
    if (name === null) throw notFound(`Error(2028): Group ${request.group} not found.`);
    return { name };
  }
  const path = CHECK_PATH.exec(url.pathname)?.[1] ?? '';
  if (directory.emailOf(decodeURIComponent(path)) === null) {
    throw notFound(`Error(2028): Permission denied for resource ${path} (or it may not exist).`);
  }
  return { hasMembership: directory.hasTransitiveMember(request.group, request.member ?? '') };
}

function handle(ctx: Context, req: IncomingMessage, res: ServerResponse): void {
  try {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (req.method !== 'GET')
      throw notFound(`The requested URL ${url.pathname} was not found on this server.`);
    const request = parse(url, ctx.directory);
    ctx.requests.push(request);
    const fault = faultFor(ctx, request);
    if (fault?.status === 'hang') return;
    if (fault !== null)
      throw new ApiError(statusForHttp(fault.status), `Injected failure (${fault.status}).`);
    sendJson(res, 200, answer(ctx.directory, request, url));
  } catch (error) {
    const apiError = ApiError.from(error);
    sendJson(res, apiError.httpStatus, apiError.body());
  }
}

export async function startCloudIdentityServer(
  options: CloudIdentityServerOptions = {},
): Promise<CloudIdentityServer> {
  const ctx: Context = {
    directory: new GroupDirectory(options.groups ?? DEMO_GROUPS),
    requests: [],
    faults: [],
  };
  const server = createServer((req, res) => handle(ctx, req, res));
  const { url } = await listen(server, options.port);
  return {
    url: `${url}/`,
    directory: ctx.directory,
    requests: ctx.requests,
    fail: (status, fault = {}) => {
      ctx.faults.push({
        status,
        group: fault.group?.toLowerCase() ?? null,
        remaining: fault.times ?? Number.POSITIVE_INFINITY,
      });
    },
    clearFaults: () => {
      ctx.faults.length = 0;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}
