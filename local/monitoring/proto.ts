/** google.monitoring.v3.MetricService, loaded from the protos shipped in @google-cloud/monitoring. */
import { createRequire } from 'node:module';
import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';

interface Loaded {
  readonly google: {
    readonly monitoring: { readonly v3: { readonly MetricService: { readonly service: ServiceDefinition } } };
  };
}

let cached: ServiceDefinition | null = null;

export function metricServiceDefinition(): ServiceDefinition {
  if (cached === null) {
    const require = createRequire(import.meta.url);
    const json: unknown = require('@google-cloud/monitoring/build/protos/protos.json');
    const definition = fromJSON(json as Parameters<typeof fromJSON>[0], {
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    cached = (loadPackageDefinition(definition) as unknown as Loaded).google.monitoring.v3.MetricService
      .service;
  }
  return cached;
}
