/**
 * Where the local backend of a backend service listens for gRPC, TCP or TLS (the `grpc`, `tcp`
 * and `tls` fields of a MeshBackend), looked up by full backend service name or its last path
 * segment, as the HTTP proxy looks up `url`.
 */
import { lastSegment } from '../../functions/core/resource-name.ts';
import type { MeshBackend } from './proxy.ts';

export type StreamProtocol = 'grpc' | 'tcp' | 'tls';

export interface StreamBackend {
  /** Backend service short name: the stats key. */
  readonly key: string;
  /** Cloud Run service name (resource label service_name). */
  readonly service: string;
  readonly host: string;
  readonly port: number;
}

/** `host:port`, `[v6]:port` or `http://host:port` as host and port. */
export function parseAddress(text: string, what: string): { host: string; port: number } {
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : `tcp://${text}`);
  } catch {
    throw new Error(`${what}: "${text}" is not host:port`);
  }
  const port = Number(url.port);
  if (url.port === '' || !Number.isInteger(port) || port <= 0)
    throw new Error(`${what}: "${text}" has no port`);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port };
}

export class StreamBackends {
  readonly #byName = new Map<string, StreamBackend>();

  constructor(backends: Readonly<Record<string, string | MeshBackend>>, protocol: StreamProtocol) {
    for (const [name, target] of Object.entries(backends)) {
      if (typeof target === 'string') continue;
      const address = target[protocol];
      if (address === undefined) continue;
      const key = lastSegment(name);
      const { host, port } = parseAddress(address, `backend "${name}" ${protocol}`);
      this.#byName.set(name, { key, service: target.service ?? key, host, port });
    }
  }

  /** The backend of a destination's serviceName; undefined when none is configured. */
  find(serviceName: string): StreamBackend | undefined {
    return this.#byName.get(serviceName) ?? this.#byName.get(lastSegment(serviceName));
  }

  /** Configured backend service names, for messages. */
  names(): string {
    return [...new Set([...this.#byName.values()].map((b) => b.key))].join(', ') || 'none';
  }
}
