/** google.monitoring.v3.MetricService, loaded from the protos shipped in @google-cloud/monitoring. */
import { createRequire } from 'node:module';
import { loadPackageDefinition, type ServiceDefinition } from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';

interface Loaded {
  readonly google: {
    readonly monitoring: {
      readonly v3: {
        readonly MetricService: { readonly service: ServiceDefinition };
        readonly AlertPolicyService: { readonly service: ServiceDefinition };
      };
    };
  };
}

let cached: ServiceDefinition | null = null;
let alertPolicies: ServiceDefinition | null = null;

export function metricServiceDefinition(): ServiceDefinition {
  return loaded().MetricService;
}

/** google.monitoring.v3.AlertPolicyService, from the same protos. */
export function alertPolicyServiceDefinition(): ServiceDefinition {
  return loaded().AlertPolicyService;
}

function loaded(): { MetricService: ServiceDefinition; AlertPolicyService: ServiceDefinition } {
  if (cached === null || alertPolicies === null) {
    const require = createRequire(import.meta.url);
    const json: unknown = require('@google-cloud/monitoring/build/protos/protos.json');
    const definition = fromJSON(json as Parameters<typeof fromJSON>[0], {
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const v3 = (loadPackageDefinition(definition) as unknown as Loaded).google.monitoring.v3;
    cached = v3.MetricService.service;
    alertPolicies = v3.AlertPolicyService.service;
  }
  return { MetricService: cached, AlertPolicyService: alertPolicies };
}
