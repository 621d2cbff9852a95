/**
 * A local smoke-test service for `check` (or gating) hooks: on each authenticated call it sends
 * N requests to the canary through the local mesh and answers
 * `{"result":"pass"|"fail","requests":n,"errors":e}` (docs/hooks.md). Calls without a valid ID
 * token from the hooks service account, for this service's origin, get 401.
 *
 * The canary is reached the way a smoke test reaches a Cloud Run canary service on its own URL:
 * a route of its own in the mesh (`<app>-canary.internal` → the canary backend only), so the
 * requests are recorded as canary traffic like any other.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { LocalCloud } from '../cloud.ts';
import type { DemoApp } from '../demo-apps.ts';
import { idTokenVerifier, type Verification } from '../iam/verify.ts';
import { runLoad } from '../mesh/load.ts';
import { listen, sendJson } from '../net.ts';
import type { HttpRoute } from '../network-services/route-feed.ts';

export interface SmokeTestOptions {
  /** The mesh proxy, e.g. `http://127.0.0.1:8080`. */
  readonly meshUrl: string;
  /** Host header of a route that leads to the canary only. */
  readonly canaryHost: string;
  /** Where the ID tokens' signing keys are (the local IAM stand-in's JWKS). */
  readonly jwksUrl: string;
  /** Callers accepted (the hooks service account); omitted: any verified caller. */
  readonly allowedEmails?: readonly string[];
  /** Requests per call (default 20). */
  readonly requests?: number;
  /** Largest share of failed requests (no 2xx answer) that still passes (default 0.1). */
  readonly maxErrorRatio?: number;
  readonly port?: number;
}

export interface SmokeRun {
  readonly at: string;
  /** The calling rollout and hook point, from the JSON body (GET: null). */
  readonly rolloutId: string | null;
  readonly kind: string | null;
  readonly result: 'pass' | 'fail';
  readonly requests: number;
  readonly errors: number;
}

export interface SmokeTestService {
  /** The URL to give a hook (its origin is the token audience). */
  readonly url: string;
  /** Every test run, oldest first (unauthenticated calls are not runs). */
  readonly runs: readonly SmokeRun[];
  /** Calls refused with 401. */
  readonly refused: () => number;
  close(): Promise<void>;
}

/** The mesh route that leads to an app's canary only (like the canary Cloud Run service's own URL). */
export function canaryOnlyRoute(app: DemoApp): HttpRoute {
  return {
    name: `${app.route}-canary`,
    description: `Direct route to the ${app.name} canary, for smoke tests`,
    hostnames: [canaryHostname(app)],
    meshes: [`${app.route.split('/httpRoutes/')[0]}/meshes/demo-mesh`],
    labels: { app: app.name, purpose: 'smoke-test' },
    rules: [{ action: { destinations: [{ serviceName: app.canary }], timeout: '10s' } }],
  };
}

export function canaryHostname(app: DemoApp): string {
  return `${app.name}-canary.internal`;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  try {
    const parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
    return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** One smoke test: N requests to the canary through the mesh. */
async function smoke(
  options: SmokeTestOptions,
): Promise<{ result: 'pass' | 'fail'; requests: number; errors: number }> {
  const requests = options.requests ?? 20;
  const stats = await runLoad({
    url: options.meshUrl,
    host: options.canaryHost,
    maxRequests: requests,
    concurrency: 4,
    timeoutMs: 5000,
  });
  // Anything but a 2xx is a failed request (a 404 means the canary is not reachable).
  const errors = stats.sent - stats.codes['2xx'];
  const result = errors <= (options.maxErrorRatio ?? 0.1) * requests ? 'pass' : 'fail';
  return { result, requests: stats.sent, errors };
}

export async function startSmokeTestService(options: SmokeTestOptions): Promise<SmokeTestService> {
  const runs: SmokeRun[] = [];
  let refused = 0;
  let verify: (authorization: string | undefined) => Promise<Verification> = async () => ({
    ok: false,
    reason: 'starting',
  });
  const server = createServer((req, res) => {
    void (async () => {
      const verification = await verify(req.headers.authorization);
      if (!verification.ok) {
        refused += 1;
        sendJson(res, 401, { error: `unauthenticated: ${verification.reason}` });
        return;
      }
      const body = req.method === 'GET' ? {} : await readBody(req);
      const outcome = await smoke(options);
      runs.push({
        at: new Date().toISOString(),
        rolloutId: typeof body['rolloutId'] === 'string' ? body['rolloutId'] : null,
        kind: typeof body['kind'] === 'string' ? body['kind'] : null,
        ...outcome,
      });
      sendJson(res, 200, outcome);
    })().catch((error: unknown) => sendJson(res, 500, { error: (error as Error).message }));
  });
  const { url } = await listen(server, options.port);
  verify = idTokenVerifier({
    jwksUrl: options.jwksUrl,
    audience: url,
    ...(options.allowedEmails === undefined ? {} : { allowedEmails: options.allowedEmails }),
  });
  return {
    url: `${url}/smoke`,
    runs,
    refused: () => refused,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())));
    },
  };
}

/** A smoke-test service for `app` on a running local cloud (adds the canary-only route to its mesh). */
export async function startSmokeTest(
  cloud: LocalCloud,
  app: DemoApp,
  options: Partial<Pick<SmokeTestOptions, 'requests' | 'maxErrorRatio' | 'port'>> = {},
): Promise<SmokeTestService> {
  cloud.networkServices.store.seed(canaryOnlyRoute(app));
  return startSmokeTestService({
    ...options,
    meshUrl: cloud.mesh.url,
    canaryHost: canaryHostname(app),
    jwksUrl: cloud.iam.jwksUrl,
    allowedEmails: [cloud.hooksServiceAccount],
  });
}
