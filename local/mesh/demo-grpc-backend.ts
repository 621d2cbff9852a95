/**
 * A demo gRPC service standing in for one Cloud Run revision behind the local mesh: service
 * `demo.Checkout` with unary methods `Quote` and `Ping`, messages as JSON (hand-written
 * serializers; no .proto needed). Its behaviour has the HTTP demo backend's knobs
 * (demo-backend.ts: error ratio, latency, jitter, slow tail), changeable at runtime; an
 * injected error is a gRPC error — HTTP 200 with grpc-status `errorCode` (default UNAVAILABLE)
 * — as a real gRPC server answers. Each answer names the backend (`backend` in the reply and
 * the `x-demo-service` header metadata).
 *
 * Like a real service it exports a gRPC server metric: every call it finishes is given to the
 * optional `metrics` recorder with its grpc-status (log-based-metrics.ts: grpc_server_handled),
 * so a rollout reading that metric sees the gRPC errors Cloud Run's request metrics cannot.
 */
import {
  type handleUnaryCall,
  Metadata,
  Server,
  ServerCredentials,
  type ServiceDefinition,
  status,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import type { GrpcCallRecorder } from '../monitoring/log-based-metrics.ts';
import { grpcCodeName } from '../monitoring/log-based-metrics.ts';
import { DEFAULT_BEHAVIOUR, type DemoBehaviour, mergeBehaviour } from './demo-backend.ts';
import type { RandomSource } from './weights.ts';

export const CHECKOUT_SERVICE = 'demo.Checkout';

export interface QuoteRequest {
  readonly items?: number;
  readonly [key: string]: unknown;
}

export interface QuoteReply {
  readonly backend: string;
  readonly method: string;
  readonly total: number;
  /** The request metadata the backend received (header matching checks). */
  readonly metadata: Readonly<Record<string, string>>;
}

const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value ?? {})),
  deserialize: (bytes: Buffer): unknown =>
    bytes.length === 0 ? {} : (JSON.parse(bytes.toString('utf8')) as unknown),
};

function unary(method: string) {
  return {
    path: `/${CHECKOUT_SERVICE}/${method}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  } as const;
}

/** `demo.Checkout`: Quote and Ping, JSON messages (for servers and clients alike). */
export const checkoutService: ServiceDefinition = { Quote: unary('Quote'), Ping: unary('Ping') };

export interface GrpcDemoBehaviour extends DemoBehaviour {
  /** grpc-status of injected errors, 1–16; default UNAVAILABLE (14). */
  readonly errorCode: number;
}

export interface GrpcDemoStats {
  readonly service: string;
  readonly total: number;
  /** Calls by grpc-status name ("OK", "UNAVAILABLE"). */
  readonly codes: Readonly<Record<string, number>>;
}

export interface GrpcDemoBackendOptions extends Partial<GrpcDemoBehaviour> {
  readonly port?: number;
  readonly host?: string;
  /** Cloud Run service name: reported in answers and in the exported metric; default "demo". */
  readonly name?: string;
  readonly random?: RandomSource;
  /** Where finished calls are exported (grpc_server_handled); default: not exported. */
  readonly metrics?: GrpcCallRecorder;
}

export interface GrpcDemoBackend {
  /** `host:port` of the gRPC server (the MeshBackend `grpc` address). */
  readonly address: string;
  readonly port: number;
  readonly name: string;
  behaviour(): GrpcDemoBehaviour;
  setBehaviour(change: Partial<GrpcDemoBehaviour>): GrpcDemoBehaviour;
  /** Calls answered by grpc-status name. */
  stats(): GrpcDemoStats;
  close(): Promise<void>;
}

/** `current` with `change` applied; throws an Error naming the first bad field. */
export function mergeGrpcBehaviour(
  current: GrpcDemoBehaviour,
  change: Partial<GrpcDemoBehaviour>,
): GrpcDemoBehaviour {
  const { errorCode, ...http } = change;
  if (errorCode !== undefined && (!Number.isInteger(errorCode) || errorCode < 1 || errorCode > 16)) {
    throw new Error('errorCode must be a gRPC status code from 1 to 16');
  }
  const { errorCode: currentCode, ...currentHttp } = current;
  return { ...mergeBehaviour(currentHttp, http), errorCode: errorCode ?? currentCode };
}

function metadataOf(metadata: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(metadata.getMap())) out[key] = String(value);
  return out;
}

function delayOf(b: DemoBehaviour, random: RandomSource): number {
  let delay = b.latencyMs;
  if (b.jitterMs > 0) delay += random() * b.jitterMs;
  if (b.tailRatio > 0 && random() < b.tailRatio) delay += b.tailMs;
  return delay;
}

export async function startGrpcDemoBackend(options: GrpcDemoBackendOptions = {}): Promise<GrpcDemoBackend> {
  const name = options.name ?? 'demo';
  const random = options.random ?? Math.random;
  const { port: _port, host: _host, name: _name, random: _random, metrics: _metrics, ...knobs } = options;
  let behaviour = mergeGrpcBehaviour({ ...DEFAULT_BEHAVIOUR, errorCode: status.UNAVAILABLE }, knobs);
  const codes: Record<string, number> = {};
  let total = 0;
  const timers = new Set<NodeJS.Timeout>();

  const handler =
    (method: string): handleUnaryCall<QuoteRequest, QuoteReply> =>
    (call, callback) => {
      const started = performance.now();
      const b = behaviour;
      const code = b.errorRatio > 0 && random() < b.errorRatio ? b.errorCode : status.OK;
      const answer = (): void => {
        const codeName = grpcCodeName(code);
        total += 1;
        codes[codeName] = (codes[codeName] ?? 0) + 1;
        options.metrics?.recordCall({
          service: name,
          grpcService: CHECKOUT_SERVICE,
          grpcMethod: method,
          code,
          latencyMs: performance.now() - started,
        });
        const trailer = new Metadata();
        trailer.set('x-demo-service', name);
        if (code !== status.OK) {
          callback({ code, details: `${name}: injected error`, metadata: trailer });
          return;
        }
        const items = typeof call.request.items === 'number' ? call.request.items : 1;
        const reply = { backend: name, method, total: items * 10, metadata: metadataOf(call.metadata) };
        callback(null, reply, trailer);
      };
      const delay = delayOf(b, random);
      if (delay <= 0) return answer();
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, delay);
      timers.add(timer);
    };

  const server = new Server();
  const implementation: UntypedServiceImplementation = { Quote: handler('Quote'), Ping: handler('Ping') };
  server.addService(checkoutService, implementation);
  const host = options.host ?? '127.0.0.1';
  const target = `${host.includes(':') ? `[${host}]` : host}:${options.port ?? 0}`;
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(target, ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    );
  });
  return {
    address: `${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    name,
    behaviour: () => behaviour,
    setBehaviour: (change) => {
      behaviour = mergeGrpcBehaviour(behaviour, change);
      return behaviour;
    },
    stats: () => ({ service: name, total, codes: { ...codes } }),
    close: async () => {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      server.forceShutdown();
    },
  };
}
