/**
 * From the README to a first real rollout (issue 16): the dead-letter alert cannot be applied
 * without a notification channel, onAlert can keep warm instances, and the example mesh has a
 * load generator and a faulty canary wired to its route — with request files that name them —
 * whose scripts are run here exactly as the Cloud Run services run them.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { validateRolloutRequest } from '../../functions/core/request.ts';
import {
  type Block,
  EXAMPLE_MESH,
  hcl,
  INFRA,
  loadModule,
  type Module,
  nested,
  REPO,
  resource,
  variable,
} from './terraform.ts';
import { planVariables } from './variables-plan.ts';

let root: Module;
let mesh: Module;

beforeAll(async () => {
  [root, mesh] = await Promise.all([loadModule(INFRA), loadModule(EXAMPLE_MESH)]);
});

const CHANNEL = 'projects/p/notificationChannels/123';

describe('the dead-letter alert', () => {
  it('notifies exactly the operator channels, which must not be empty', () => {
    const policy = resource(root, 'google_monitoring_alert_policy.dead_letters');
    expect(policy['notification_channels']).toBe(hcl('var.operator_notification_channels'));
    const validations = variable(root, 'operator_notification_channels')['validation'] as Block[];
    expect(validations.map((v) => v['condition'])).toContain(
      hcl('length(var.operator_notification_channels) > 0'),
    );
  });

  it('cannot be planned without a channel: Terraform rejects an empty list with a message naming the variable', async () => {
    const empty = await planVariables({ project_id: 'p', operator_notification_channels: '[]' });
    expect(empty.code).not.toBe(0);
    expect(empty.stderr).toContain('Set operator_notification_channels to at least one notification channel');
    // Left out, the default (empty) is rejected too.
    const unset = await planVariables({ project_id: 'p' });
    expect(unset.code).not.toBe(0);
    expect(unset.stderr).toContain('operator_notification_channels');
    const malformed = await planVariables({ project_id: 'p', operator_notification_channels: '["e-mail"]' });
    expect(malformed.code).not.toBe(0);
    expect(malformed.stderr).toContain('projects/P/notificationChannels/N');
    const ok = await planVariables({ project_id: 'p', operator_notification_channels: `["${CHANNEL}"]` });
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
  });

  it('is set in terraform.tfvars.example, so a copied example plans', async () => {
    const example = await readFile(join(INFRA, 'terraform.tfvars.example'), 'utf8');
    expect(example).toMatch(
      /^operator_notification_channels = \["projects\/[^"]+\/notificationChannels\/\d+"\]$/m,
    );
  });
});

describe('onAlert warm instances', () => {
  it('sets min instances on the onAlert function only, 0 by default, with the cost in the description', async () => {
    const fn = resource(root, 'google_cloudfunctions2_function.fn');
    expect(nested(fn, 'service_config')['min_instance_count']).toBe(
      hcl('each.key == "onAlert" ? var.on_alert_min_instances : 0'),
    );
    const v = variable(root, 'on_alert_min_instances');
    expect(v['default']).toBe(0);
    expect(String(v['description'])).toMatch(/\$9\.72 a 30-day month/);
    const plan = (value: string) =>
      planVariables({
        project_id: 'p',
        operator_notification_channels: `["${CHANNEL}"]`,
        on_alert_min_instances: value,
      });
    expect((await plan('1')).code).toBe(0);
    expect((await plan('-1')).stderr).toContain('on_alert_min_instances must be a whole number from 0 to 3');
    expect((await plan('1.5')).code).not.toBe(0);
  });
});

describe('example mesh: a first rollout shows a promotion and a rollback', () => {
  it('puts the faulty canary behind the route like the others, answering a share of 5xx', () => {
    const backends = mesh.locals['backends'] as Block;
    expect(Object.keys(backends).sort()).toEqual(['canary', 'faulty', 'stable']);
    expect(backends['faulty']).toEqual({ image: null, error_ratio: hcl('var.faulty_error_ratio') });
    // Every backend: Cloud Run service → serverless NEG → backend service named <name>-<role>,
    // the names rollout requests use (for_each over the same map).
    for (const address of [
      'google_cloud_run_v2_service.backend',
      'google_compute_region_network_endpoint_group.backend',
      'google_compute_backend_service.backend',
      'google_cloud_run_v2_service_iam_member.client_invokes',
    ]) {
      expect(resource(mesh, address)['for_each'], address).toBe(hcl('local.backends'));
    }
    const container = nested(resource(mesh, 'google_cloud_run_v2_service.backend'), 'template', 'containers');
    expect(container['args']).toBe(
      hcl(
        `each.value.image == null ? ["--input-type=module", "-e", file("${hcl('path.module')}/backend.mjs")] : null`,
      ),
    );
    expect(container['env']).toContainEqual({
      name: 'ERROR_RATIO',
      value: hcl('tostring(each.value.error_ratio)'),
    });
    expect(variable(mesh, 'faulty_error_ratio')['default']).toBe(0.1);
    expect(mesh.outputs.get('faulty_backend')?.['value']).toBe(hcl('local.backend_names["faulty"]'));
  });

  it('sends the load generator to the route hostname through the mesh, at 10 requests a second by default', () => {
    const load = resource(mesh, 'google_cloud_run_v2_service.load');
    expect(load['count']).toBe(hcl('var.load_requests_per_second > 0 ? 1 : 0'));
    const template = nested(load, 'template');
    expect(nested(template, 'service_mesh')['mesh']).toBe(hcl('google_network_services_mesh.mesh.id'));
    const container = nested(template, 'containers');
    expect(container['env']).toContainEqual({ name: 'TARGET_URL', value: `http://${hcl('local.hostname')}` });
    expect(container['env']).toContainEqual({
      name: 'REQUESTS_PER_SECOND',
      value: hcl('tostring(var.load_requests_per_second)'),
    });
    expect(container['args']).toEqual([
      '--input-type=module',
      '-e',
      hcl(`file("${hcl('path.module')}/load.mjs")`),
    ]);
    // Always on: its CPU must run between requests, from exactly one instance.
    expect(nested(container, 'resources')['cpu_idle']).toBe(false);
    expect(nested(template, 'scaling')).toEqual({ min_instance_count: 1, max_instance_count: 1 });
    // The same hostname the route answers for, and the identity the mesh and the backends accept.
    const route = resource(mesh, 'google_network_services_http_route.route');
    expect(route['hostnames']).toEqual([hcl('local.hostname')]);
    expect(template['service_account']).toBe(hcl('google_service_account.client.email'));
    expect(load['depends_on']).toContain(hcl('google_network_services_http_route.route'));
    expect(variable(mesh, 'load_requests_per_second')['default']).toBe(10);
    // The root passes both settings through.
    const call = root.modules.get('example_mesh');
    expect(call?.['load_requests_per_second']).toBe(hcl('var.example_mesh_load_requests_per_second'));
    expect(call?.['faulty_error_ratio']).toBe(hcl('var.example_mesh_faulty_error_ratio'));
  });

  it('has one request file per outcome, valid and naming the example route and backends', async () => {
    const name = variable(mesh, 'name')['default'];
    expect(name).toBe('checkout');
    const read = async (file: string) =>
      JSON.parse(await readFile(join(REPO, 'docs', 'examples', file), 'utf8')) as Record<string, unknown>;
    const backend = (role: string) => `projects/my-project/locations/global/backendServices/${name}-${role}`;
    for (const [file, canary] of [
      ['first-rollout-rollback.json', backend('faulty')],
      ['first-rollout-promotion.json', backend('canary')],
    ] as const) {
      const request = await read(file);
      expect(validateRolloutRequest(request).ok, file).toBe(true);
      expect(request['route'], file).toBe(`projects/my-project/locations/global/httpRoutes/${name}`);
      expect(request['stable'], file).toBe(backend('stable'));
      expect(request['canary'], file).toBe(canary);
    }
  });
});

// --- The scripts, run as Cloud Run runs them ------------------------------------------------------

const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGTERM');
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/** `node --input-type=module -e <script>` with the env the module gives the container. */
async function runScript(file: string, env: Record<string, string>): Promise<void> {
  const script = await readFile(join(EXAMPLE_MESH, file), 'utf8');
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: 'ignore',
  });
  children.push(child);
}

/** The first answer of a server that is starting (retried for up to 5 s). */
async function answered(url: string): Promise<Response> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await fetch(url);
    } catch (error) {
      if (attempt > 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

async function getJson(url: string): Promise<Record<string, unknown>> {
  return (await (await answered(url)).json()) as Record<string, unknown>;
}

describe('the example mesh scripts', () => {
  it('the load generator sends its rate to the target, and the faulty backend answers a share with 500', async () => {
    const [backendPort, loadPort] = await Promise.all([freePort(), freePort()]);
    await runScript('backend.mjs', { PORT: String(backendPort), ERROR_RATIO: '0.5', VERSION: 'faulty' });
    await answered(`http://127.0.0.1:${backendPort}/`);
    await runScript('load.mjs', {
      PORT: String(loadPort),
      TARGET_URL: `http://127.0.0.1:${backendPort}`,
      REQUESTS_PER_SECOND: '40',
    });
    await getJson(`http://127.0.0.1:${loadPort}/`);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    const stats = await getJson(`http://127.0.0.1:${loadPort}/`);
    expect(stats['requestsPerSecond']).toBe(40);
    const answers = stats['answers'] as Record<string, number>;
    const ok = answers['200'] ?? 0;
    const failed = answers['500'] ?? 0;
    // About 80 requests in 2 s at 40/s, half of them failed (each side far from 0 by chance).
    expect(ok + failed).toBeGreaterThanOrEqual(40);
    expect(ok + failed).toBeLessThanOrEqual(Number(stats['sent']));
    expect(ok).toBeGreaterThan(5);
    expect(failed).toBeGreaterThan(5);
    expect(answers['error']).toBeUndefined();
  });

  it('the stable and canary demo backend never fails, and says which it is', async () => {
    const port = await freePort();
    await runScript('backend.mjs', { PORT: String(port), ERROR_RATIO: '0', VERSION: 'canary' });
    await answered(`http://127.0.0.1:${port}/`);
    for (let i = 0; i < 20; i += 1) {
      const response = await fetch(`http://127.0.0.1:${port}/`);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('canary: ok\n');
    }
  });

  it('the load generator refuses to start without a target', async () => {
    const script = await readFile(join(EXAMPLE_MESH, 'load.mjs'), 'utf8');
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      env: { PATH: process.env['PATH'] ?? '', PORT: String(await freePort()) },
      stdio: 'ignore',
    });
    children.push(child);
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
  });
});
