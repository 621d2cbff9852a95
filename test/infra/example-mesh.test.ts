/**
 * infra/modules/example-mesh: a Cloud Service Mesh on Cloud Run the controller can manage, built
 * like the walkthrough it comes from (Mesh, private DNS, serverless NEGs behind
 * INTERNAL_SELF_MANAGED backend services, an HTTPRoute with hostnames, a mesh client whose
 * service account has roles/trafficdirector.client).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type Block,
  EXAMPLE_MESH,
  hasNested,
  hcl,
  INFRA,
  loadModule,
  type Module,
  nested,
  resource,
} from './terraform.ts';

let root: Module;
let mesh: Module;

beforeAll(async () => {
  [root, mesh] = await Promise.all([loadModule(INFRA), loadModule(EXAMPLE_MESH)]);
});

describe('example mesh module', () => {
  it('is optional and feeds the controller its route', () => {
    const call = root.modules.get('example_mesh');
    expect(call?.['source']).toBe('./modules/example-mesh');
    expect(call?.['count']).toBe(hcl('var.example_mesh ? 1 : 0'));
    expect(root.variables.get('example_mesh')?.['default']).toBe(false);
    expect(root.locals['allowed_routes']).toBe(
      hcl('concat(var.allowed_routes, var.example_mesh ? [module.example_mesh[0].route_name] : [])'),
    );
    expect(mesh.outputs.get('route_name')?.['value']).toBe(
      hcl('google_network_services_http_route.route.id'),
    );
  });

  it('puts stable and canary Cloud Run services behind serverless NEGs and INTERNAL_SELF_MANAGED backend services', () => {
    const services = resource(mesh, 'google_cloud_run_v2_service.backend');
    expect(services['for_each']).toBe(hcl('local.backends'));
    expect(Object.keys(mesh.locals['backends'] as Block).sort()).toEqual(['canary', 'faulty', 'stable']);
    const neg = resource(mesh, 'google_compute_region_network_endpoint_group.backend');
    expect(neg['network_endpoint_type']).toBe('SERVERLESS');
    expect(nested(neg, 'cloud_run')['service']).toBe(
      hcl('google_cloud_run_v2_service.backend[each.key].name'),
    );
    const backend = resource(mesh, 'google_compute_backend_service.backend');
    expect(backend['load_balancing_scheme']).toBe('INTERNAL_SELF_MANAGED');
    expect(nested(backend, 'backend')['group']).toBe(
      hcl('google_compute_region_network_endpoint_group.backend[each.key].id'),
    );
  });

  it('routes the hostname on the mesh 100 % to stable, and leaves later weight changes to the controller', () => {
    const route = resource(mesh, 'google_network_services_http_route.route');
    expect(route['hostnames']).toEqual([hcl('local.hostname')]);
    expect(route['meshes']).toEqual([hcl('google_network_services_mesh.mesh.id')]);
    const rules = route['rules'] as Block[];
    expect(rules).toHaveLength(1);
    const destinations = nested(rules[0] as Block, 'action')['destinations'] as Block[];
    expect(destinations).toEqual([{ service_name: hcl('local.backend_names["stable"]'), weight: 100 }]);
    expect(nested(route, 'lifecycle')['ignore_changes']).toEqual([hcl('rules')]);
    // Backend names in the form rollout requests use.
    expect(mesh.locals['backend_names']).toBe(
      hcl(
        `{\n    for role, _ in local.backends :\n    role => "projects/${hcl('var.project_id')}/locations/global/backendServices/${hcl('var.name')}-${hcl('role')}"\n  }`,
      ),
    );
  });

  it('resolves mesh hostnames through a private DNS zone on the client network', () => {
    const zone = resource(mesh, 'google_dns_managed_zone.mesh');
    expect(zone['visibility']).toBe('private');
    expect(nested(zone, 'private_visibility_config', 'networks')['network_url']).toBe(
      hcl('google_compute_network.mesh.id'),
    );
    const record = resource(mesh, 'google_dns_record_set.mesh');
    expect(record['name']).toBe(`*.${hcl('var.domain')}.`);
  });

  it('joins the client to the mesh, with roles/trafficdirector.client granted before it starts', () => {
    const client = resource(mesh, 'google_cloud_run_v2_service.client');
    expect(client['provider']).toBe(hcl('google-beta'));
    expect(client['launch_stage']).toBe('BETA');
    const template = nested(client, 'template');
    expect(nested(template, 'service_mesh')['mesh']).toBe(hcl('google_network_services_mesh.mesh.id'));
    expect(template['service_account']).toBe(hcl('google_service_account.client.email'));
    expect(nested(template, 'vpc_access')['egress']).toBe('ALL_TRAFFIC');
    expect(client['depends_on']).toContain(hcl('google_project_iam_member.client_mesh'));
    const grant = resource(mesh, 'google_project_iam_member.client_mesh');
    expect(grant['role']).toBe('roles/trafficdirector.client');
    expect(grant['member']).toBe(hcl('google_service_account.client.member'));
  });

  it('starts the client a minute after the mesh exists (time_sleep, as the provider example does)', () => {
    const sleep = resource(mesh, 'time_sleep.mesh_ready');
    expect(sleep['create_duration']).toBe('60s');
    expect(sleep['depends_on']).toEqual([hcl('google_network_services_mesh.mesh')]);
    const client = resource(mesh, 'google_cloud_run_v2_service.client');
    expect(client['depends_on']).toContain(hcl('time_sleep.mesh_ready'));
    // Every service joined to the mesh waits for it.
    for (const [address, service] of mesh.resources) {
      if (!address.startsWith('google_cloud_run_v2_service.')) continue;
      if (!hasNested(nested(service, 'template'), 'service_mesh')) continue;
      expect(service['depends_on'], address).toContain(hcl('time_sleep.mesh_ready'));
    }
    // The module declares hashicorp/time; the root pins its version.
    const providers = nested(mesh.terraform[0] as Block, 'required_providers');
    expect(providers['time']).toEqual({ source: 'hashicorp/time' });
    expect(nested(root.terraform[0] as Block, 'required_providers')['time']).toEqual({
      source: 'hashicorp/time',
      version: expect.stringMatching(/^\d+\.\d+\.\d+$/),
    });
  });

  it('keeps every Cloud Run service private (IAM-checked, deletable)', () => {
    for (const address of [
      'google_cloud_run_v2_service.backend',
      'google_cloud_run_v2_service.client',
      'google_cloud_run_v2_service.load',
    ]) {
      const service = resource(mesh, address);
      expect(service['deletion_protection'], address).toBe(false);
      expect(hasNested(service, 'invoker_iam_disabled'), address).toBe(false);
      expect(service['invoker_iam_disabled'], address).toBeUndefined();
    }
  });
});
