/**
 * The route table of one listener of the local mesh, kept as the HTTP proxy keeps its own:
 * re-read from the RouteFeed on every notification (only routes attached to the served mesh,
 * when one is given) and handed to the listener's clients through a Propagation, so a change
 * reaches each client after its own delay. A stream or connection is served with the table of
 * the client picked for it when it starts and keeps its backend to its end; new ones use
 * whatever their client has by then.
 */
import type { RouteFeed } from '../network-services/route-feed.ts';
import { DEFAULT_SEED, type DelaySpec, streamFor } from '../timing.ts';
import { Propagation } from './propagation.ts';

export interface FollowOptions<R> {
  readonly feed: RouteFeed;
  /** The routes of the listener's kind. */
  readonly read: (feed: RouteFeed) => readonly R[];
  /** Serve only routes attached to this mesh (full name); default: every route of the kind. */
  readonly mesh?: string;
  readonly propagationMs?: DelaySpec;
  readonly clients?: number;
  readonly seed?: number;
  /** Added to the seed so each listener draws its own delays. */
  readonly seedOffset: number;
  readonly log: (line: string) => void;
  /** Notes about a newly read table (fields the local mesh ignores), logged once each. */
  readonly notes?: (routes: readonly R[]) => readonly string[];
}

export interface RouteFollower<R> {
  /** The routes the client serving the next stream or connection has. */
  pick(): readonly R[];
  /** Whether every client has the newest routes. */
  settled(): boolean;
  reloads(): number;
  close(): void;
}

export function followRoutes<R extends { readonly meshes?: string[] | null }>(
  options: FollowOptions<R>,
): RouteFollower<R> {
  const tables = new Propagation<readonly R[]>([], {
    delay: options.propagationMs ?? 0,
    random: streamFor((options.seed ?? DEFAULT_SEED) + options.seedOffset, 'propagation'),
    ...(options.clients === undefined ? {} : { clients: options.clients }),
  });
  const logged = new Set<string>();
  let reloads = 0;
  const reload = (): void => {
    try {
      const all = options.read(options.feed);
      const mesh = options.mesh;
      const routes = mesh === undefined ? all : all.filter((r) => (r.meshes ?? []).includes(mesh));
      if (reloads === 0) tables.reset(routes);
      else tables.update(routes);
      reloads += 1;
      for (const note of options.notes?.(routes) ?? []) {
        if (logged.has(note)) continue;
        logged.add(note);
        options.log(note);
      }
    } catch (error) {
      options.log(`route feed read failed, keeping the previous routes: ${(error as Error).message}`);
    }
  };
  const unsubscribe = options.feed.subscribe(reload);
  reload();
  return {
    pick: () => tables.pick(),
    settled: () => tables.settled(),
    reloads: () => reloads,
    close: () => {
      unsubscribe();
      tables.close();
    },
  };
}
