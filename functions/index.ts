/**
 * Every entry point in one module, sharing one runtime — for running all functions in a single
 * functions-framework process (`--target` picks one). Deployments bundle each entry point
 * from functions/entry/ on its own instead (see scripts/build.ts).
 */
import { cloudEvent, http } from '@google-cloud/functions-framework';
import { advanceDueHandler } from './handlers/advance-due.ts';
import { controlHandler } from './handlers/control.ts';
import { advanceRolloutFunction, controlHttpFunction } from './handlers/http-functions.ts';
import { onAlertHandler } from './handlers/on-alert.ts';
import { startRolloutHandler } from './handlers/start-rollout.ts';
import { tickHandler } from './handlers/tick.ts';
import { runtimeFromEnvironment } from './wiring.ts';

const runtime = runtimeFromEnvironment();
cloudEvent('startRollout', startRolloutHandler(runtime));
http('advanceRollout', advanceRolloutFunction(runtime));
cloudEvent('tick', tickHandler(runtime));
cloudEvent('advanceDue', advanceDueHandler(runtime));
cloudEvent('onAlert', onAlertHandler(runtime));
cloudEvent('control', controlHandler(runtime));
http('controlHttp', controlHttpFunction(runtime));
