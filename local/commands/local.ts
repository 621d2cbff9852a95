/**
 * `npm run local`: starts the local Google Cloud (emulators, Network Services and Monitoring
 * stand-ins, mesh proxy, demo backends, a demo HTTPRoute, alerting) and prints `export` lines for
 * every endpoint. Runs until Ctrl-C or SIGTERM, then stops everything.
 *
 *   eval "$(npm run -s local)"      # in another terminal, point a shell at it
 *   options: --time-scale N (default 1), --apps checkout,cart
 */
import { parseArgs } from 'node:util';
import { exportLines, startLocalCloud } from '../cloud.ts';
import { stopOnSignal } from './shutdown.ts';

process.env['METADATA_SERVER_DETECTION'] ??= 'none';
const { values } = parseArgs({
  options: { 'time-scale': { type: 'string', default: '1' }, apps: { type: 'string', default: 'checkout' } },
});
const timeScale = Number(values['time-scale']);
if (!Number.isFinite(timeScale) || timeScale < 1) throw new Error('--time-scale must be a number ≥ 1');

const cloud = await startLocalCloud({ timeScale, apps: values.apps.split(',').map((a) => a.trim()) });
process.stdout.write(`${exportLines(cloud.env)}\n`);
process.stderr.write(
  `# local cloud ready (time scale ${timeScale}); routes: ${cloud.apps.map((a) => `${a.route} (Host: ${a.hostname})`).join(', ')}\n` +
    `# try: curl -s -H 'Host: ${cloud.apps[0]?.hostname}' ${cloud.mesh.url}/ ; Ctrl-C stops everything\n`,
);
await stopOnSignal(() => cloud.stop());
