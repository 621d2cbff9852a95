/**
 * One route of a release as an end-to-end test drives it: its name and backends, how to send
 * `n` requests (or calls, or connections) through the local mesh and count which backend answered,
 * and how to make its canary fail.
 */
import type { DemoApp } from '../../local/demo-apps.ts';
import { startLoad } from '../../local/mesh/load.ts';
import type { Stack } from './stack.ts';

export interface Counts {
  readonly stable: number;
  readonly canary: number;
  /** Answers from any other backend (or none). */
  readonly other: number;
}

export interface Side {
  readonly route: string;
  readonly stable: string;
  readonly canary: string;
  /** Sends `n` through the mesh, one after another in a few parallel lanes; counts who answered. */
  measure(n: number): Promise<Counts>;
  /** Makes the canary fail this share of its requests (or calls, or connections). */
  setCanaryErrors(ratio: number): void;
}

export interface HttpSide extends Side {
  readonly app: DemoApp;
}

/** The app's HTTPRoute, measured with HTTP requests through the mesh proxy. */
export function httpSide(stack: Stack, app: DemoApp): HttpSide {
  return {
    app,
    route: app.route,
    stable: app.stable,
    canary: app.canary,
    measure: async (n) => {
      const stats = await startLoad({
        url: stack.cloud.mesh.url,
        host: app.hostname,
        maxRequests: n,
        concurrency: 8,
      }).done;
      const stable = stats.byBackend[app.stableService]?.total ?? 0;
      const canary = stats.byBackend[app.canaryService]?.total ?? 0;
      return { stable, canary, other: n - stable - canary };
    },
    setCanaryErrors: (ratio) =>
      stack.cloud.backends.get(app.canaryService)?.setBehaviour({ errorRatio: ratio }),
  };
}
