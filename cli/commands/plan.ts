/** rolloutctl plan -f request.json: a dry run against the project; reads only, changes nothing. */
import { createFirestore } from '../../functions/adapters/firestore-client.ts';
import { FirestoreRolloutStore } from '../../functions/adapters/firestore-store.ts';
import { MonitoringAlertPolicies } from '../../functions/adapters/monitoring-alert-policies.ts';
import { ProjectPermissions } from '../../functions/adapters/project-permissions.ts';
import type { Config } from '../../functions/app/config.ts';
import { planRollout } from '../../functions/app/plan/plan-rollout.ts';
import type { PlanReport } from '../../functions/app/plan/report.ts';
import { InvalidInputError } from '../../functions/errors.ts';
import { googleClients } from '../../functions/wiring.ts';
import { type Command, type CommandContext, EXIT, printJson } from '../command.ts';
import { controllerConfig } from '../controller-config.ts';
import { planText } from '../plan-text.ts';
import { requestFile } from './validate.ts';

export const planCommand: Command = {
  name: 'plan',
  summary:
    'dry run: what starting a request would do (checks, route diff, metrics, timeline); changes nothing',
  help: `usage: rolloutctl plan -f request.json [--config controller.env] [--project P] [--json]

Runs the controller's own start checks against the project without changing anything: the
schema, the allowlist, each route read and its managed rule, the route write each step would
make (before/after of the managed rule's destinations), whether Cloud Monitoring has traffic
for both backends now (last 10 minutes), the alert policies whose labels map to this rollout,
the earliest timeline, and the IAM checks it can make. Checks it cannot make say "not checked".

The controller's configuration (ALLOWED_ROUTES, metric defaults, endpoints) comes from the
environment and --config FILE (KEY=VALUE lines: terraform output -raw rolloutctl_config, or
.local/controller.env for the local cloud).

Exit 0 when there are no problems, 3 when there are (each named), 2 usage, 5 unreachable.`,
  options: { file: { type: 'string', short: 'f' }, config: { type: 'string' } },
  async run(ctx) {
    const body = requestBody(ctx);
    const config = controllerConfig(ctx);
    const report = await withPlanDeps(config, (deps) => planRollout(deps, body));
    if (ctx.json) printJson(ctx.io, report);
    else ctx.io.out(planText(report));
    return report.ok ? EXIT.ok : EXIT.refused;
  },
};

function requestBody(ctx: CommandContext): unknown {
  const { file, text } = requestFile(ctx);
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new InvalidInputError(
      `${file} is not JSON: ${(error as Error).message}`,
      [{ field: '$', rule: 'must be JSON' }],
      {
        code: 'INVALID_REQUEST',
        hint: 'write the request as one JSON object (schema: schema/rollout-request.schema.json)',
      },
    );
  }
}

type PlanDeps = Parameters<typeof planRollout>[0];

/** The controller's own adapters (read-only use), closed afterwards. */
async function withPlanDeps(
  config: Config,
  work: (deps: PlanDeps) => Promise<PlanReport>,
): Promise<PlanReport> {
  const clients = googleClients(config);
  const db = createFirestore({
    projectId: config.project,
    databaseId: config.firestoreDatabase,
    ...(config.endpoints.firestoreEmulator ? { emulatorHost: config.endpoints.firestoreEmulator } : {}),
  });
  const local = config.endpoints.monitoring;
  const alerts = new MonitoringAlertPolicies({
    projectId: config.project,
    ...(local ? { localEndpoint: local } : {}),
  });
  const root = config.endpoints.networkServices;
  try {
    return await work({
      config,
      router: await clients.router(),
      metrics: await clients.metrics(),
      store: new FirestoreRolloutStore(db),
      alerts,
      permissions: new ProjectPermissions(root ? { rootUrl: root } : {}),
      clock: () => Date.now(),
    });
  } finally {
    const metrics = (await clients.metrics()) as { close?: () => Promise<void> };
    await Promise.allSettled([db.terminate(), alerts.close(), metrics.close?.()]);
  }
}
