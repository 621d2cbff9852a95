/**
 * `terraform output -raw rolloutctl_config` renders the functions' environment as lines
 * rolloutctl reads with the controller's own loader: the output's expression, evaluated by
 * Terraform itself over a deployment's values, parses back into the configuration the functions
 * run with (DEFAULT_METRICS JSON included).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseEnvFile } from '../../cli/controller-config.ts';
import { loadConfig } from '../../functions/app/config.ts';
import { evaluateLocals, INFRA, loadModule } from './terraform.ts';

const COMMON = `{
  GOOGLE_CLOUD_PROJECT = "shop-prod"
  PROJECT_NUMBER       = "123456789"
  ALLOWED_ROUTES       = "projects/shop-prod/locations/global/httpRoutes/checkout,projects/shop-prod/locations/global/grpcRoutes/*"
  EVENTS_TOPIC         = "rollout-events"
  ADVANCE_TOPIC        = "rollout-advance"
  FIRESTORE_DATABASE   = "(default)"
  METRICS_PRESET       = "cloudRun"
  DEFAULT_METRICS      = jsonencode({ "checkout-v2" = { preset = "internalLb", backend = "checkout-v2" } })
  LOG_EXECUTION_ID     = "true"
}`;
const WORKFLOW = `{
  WORKFLOW_NAME = "projects/shop-prod/locations/europe-west1/workflows/canary-rollout"
  ADVANCE_URL   = "https://advance-rollout-abc-ew.a.run.app"
}`;

describe('rolloutctl_config output', () => {
  it('merges what the functions get (common, workflow, hooks account, extra environment)', async () => {
    const root = await loadModule(INFRA);
    const value = String(root.outputs.get('rolloutctl_config')?.['value'] ?? '');
    for (const part of [
      'local.common_environment',
      'local.workflow_environment',
      'google_service_account.hooks.email',
      'var.extra_environment',
    ]) {
      expect(value).toContain(part);
    }
  });

  it('renders lines the controller’s loader reads back (evaluated by terraform console)', async () => {
    const root = await loadModule(INFRA);
    const value = String(root.outputs.get('rolloutctl_config')?.['value'] ?? '');
    const expression = value
      .replace(/^\$\{/, '')
      .replace(/\}$/, '')
      .replace('local.common_environment', COMMON)
      .replace('local.workflow_environment', WORKFLOW)
      .replace('google_service_account.hooks.email', '"hooks@shop-prod.iam.gserviceaccount.com"')
      .replace('var.extra_environment', '{ STALLED_AFTER_SECONDS = "600" }');
    const dir = await mkdtemp(join(tmpdir(), 'tf-rolloutctl-config-'));
    try {
      const file = join(dir, 'locals.tf');
      await writeFile(file, `locals {\n  rendered = ${expression}\n}\n`);
      const rendered = await evaluateLocals<string>('local.rendered', file);
      const config = loadConfig(parseEnvFile(rendered, 'controller.env'));
      expect(config).toMatchObject({
        project: 'shop-prod',
        projectNumber: '123456789',
        allowedRoutes: [
          'projects/shop-prod/locations/global/httpRoutes/checkout',
          'projects/shop-prod/locations/global/grpcRoutes/*',
        ],
        defaultMetrics: { 'checkout-v2': { preset: 'internalLb', backend: 'checkout-v2' } },
        workflow: { name: 'projects/shop-prod/locations/europe-west1/workflows/canary-rollout' },
        hooks: { serviceAccount: 'hooks@shop-prod.iam.gserviceaccount.com' },
        stalledAfterMs: 600_000,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
