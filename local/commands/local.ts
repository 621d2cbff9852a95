/**
 * `npm run local`: starts the local Google Cloud (emulators, Network Services and Monitoring
 * stand-ins, mesh proxy, demo backends, a demo HTTPRoute, alerting) and prints `export` lines for
 * every endpoint (also written to .local/env.sh). Runs until Ctrl-C or SIGTERM, then stops
 * everything.
 *
 *   source .local/env.sh            # in another terminal, point a shell at it
 *   options: --time-scale N (default 1), --apps checkout,cart, --env-out PATH (default .local/env.sh)
 */
import { parseArgs } from 'node:util';
import { startLocalCloud } from '../cloud.ts';
import { controllerEnvFor } from '../controller.ts';
import { ENV_FILE, writeControllerEnvFile, writeEnvFile } from './env-file.ts';
import { stopOnSignal } from './shutdown.ts';

process.env['METADATA_SERVER_DETECTION'] ??= 'none';
const { values } = parseArgs({
  options: {
    'time-scale': { type: 'string', default: '1' },
    apps: { type: 'string', default: 'checkout' },
    'env-out': { type: 'string' },
  },
});
const timeScale = Number(values['time-scale']);
if (!Number.isFinite(timeScale) || timeScale < 1) throw new Error('--time-scale must be a number ≥ 1');

const cloud = await startLocalCloud({ timeScale, apps: values.apps.split(',').map((a) => a.trim()) });
process.stdout.write(`${writeEnvFile(cloud.env, values['env-out'])}\n`);
const controllerEnv = writeControllerEnvFile(controllerEnvFor(cloud));
process.stderr.write(
  `# local cloud ready (time scale ${timeScale}); routes: ${cloud.apps.map((a) => `${a.route} (Host: ${a.hostname})`).join(', ')}\n` +
    `# in another terminal: source ${values['env-out'] ?? ENV_FILE}\n` +
    `# dry-run a request: rolloutctl plan --config ${controllerEnv} -f request.json\n` +
    `# try: curl -s -H 'Host: ${cloud.apps[0]?.hostname}' ${cloud.mesh.url}/ ; Ctrl-C stops everything\n`,
);
await stopOnSignal(() => cloud.stop());
