/**
 * Steady gRPC traffic for the demo: demo.Checkout/Quote calls at a rate through the mesh's gRPC
 * listener with an app's GRPCRoute hostname as `:authority`, one second of paced calls after
 * another until stopped.
 */
import { runGrpcLoad } from '../mesh/stream-load.ts';
import type { ProtocolPlanes } from '../protocols.ts';

export interface GrpcLoad {
  /** Stops after the second of calls under way. */
  stop(): Promise<void>;
}

export function startGrpcDemoLoad(planes: ProtocolPlanes, authority: string, rate: number): GrpcLoad {
  let running = true;
  const loop = (async () => {
    while (running) {
      await runGrpcLoad({ address: planes.grpc.address, authority, rate, durationMs: 1000, concurrency: 16 });
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
    },
  };
}
