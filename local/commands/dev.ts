/**
 * `npm run dev`: the local cloud plus the controller (every function, push subscriptions, the
 * Workflows runner, the ticker) and light traffic through the mesh. Prints the environment and a
 * ready `gcloud pubsub topics publish` command for starting a rollout by hand. Ctrl-C stops all.
 *
 *   options: --time-scale N (default 10), --rps N (default 40)
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startLocalCloud } from '../cloud.ts';
import { startControllerOn } from '../controller.ts';
import { startSmokeTest } from '../hooks/smoke-test.ts';
import { startLoad } from '../mesh/load.ts';
import { ENV_FILE, LOCAL_DIR, writeControllerEnvFile, writeEnvFile } from './env-file.ts';
import { exampleRequest } from './example-request.ts';
import { stopOnSignal } from './shutdown.ts';

process.env['METADATA_SERVER_DETECTION'] ??= 'none';
const { values } = parseArgs({
  options: { 'time-scale': { type: 'string', default: '10' }, rps: { type: 'string', default: '40' } },
});
const timeScale = Number(values['time-scale']);
const rps = Number(values.rps);

const cloud = await startLocalCloud({ timeScale, apps: ['checkout'] });
const app = cloud.apps[0];
if (!app) throw new Error('no demo app');
const controller = await startControllerOn(cloud, {
  onLog: (name, line) => {
    if (!line.includes('"severity":"DEBUG"')) process.stderr.write(`[${name}] ${line}\n`);
  },
});
// A local hook target: a smoke test of the canary (docs/hooks.md#hooks-in-the-local-cloud).
const smoke = await startSmokeTest(cloud, app);
const load = startLoad({ url: cloud.mesh.url, host: app.hostname, rps, concurrency: 16 });

// gcloud talks to the emulator through an endpoint override; it needs some token to send.
mkdirSync(LOCAL_DIR, { recursive: true });
const tokenFile = `${LOCAL_DIR}emulator-token`;
writeFileSync(tokenFile, 'local-emulator\n');
// The functions' own environment, for `rolloutctl plan --config .local/controller.env`.
writeControllerEnvFile(controller.env);
const env = {
  ...cloud.env,
  CLOUDSDK_API_ENDPOINT_OVERRIDES_PUBSUB: `http://${cloud.pubsubHost}/`,
  CLOUDSDK_AUTH_ACCESS_TOKEN_FILE: tokenFile,
  CLOUDSDK_CORE_PROJECT: cloud.project,
  SMOKE_TEST_URL: smoke.url,
};
const withSmokeTest = {
  ...exampleRequest(app, 'demo-hooks-1'),
  hooks: { check: [{ name: 'smoke', url: smoke.url, timeout: '30s' }] },
};
process.stdout.write(
  [
    `# The controller is running locally. In another terminal: source ${ENV_FILE}  (or paste these)`,
    writeEnvFile(env),
    '',
    '# Start a rollout by hand (or: npx node cli/rolloutctl.ts start -f request.json):',
    `gcloud pubsub topics publish rollout-requests --message='${JSON.stringify(exampleRequest(app))}'`,
    '',
    '# The same with the local smoke-test service as a check hook (HOOK_URL_POLICY=local allows',
    '# http://127.0.0.1 hooks; the token comes from the local IAM stand-in, docs/hooks.md):',
    `gcloud pubsub topics publish rollout-requests --message='${JSON.stringify(withSmokeTest)}'`,
    '',
    '# Watch it: npx node cli/rolloutctl.ts status demo-1   |   turn the canary bad:',
    `curl -s -X PUT -d '{"errorRatio":0.3}' ${cloud.backends.get(app.canaryService)?.url}/__admin/behaviour`,
    '# Ctrl-C stops everything.',
    '',
  ].join('\n'),
);
await stopOnSignal(async () => {
  await load.stop();
  await smoke.close();
  await controller.stop();
  await cloud.stop();
});
