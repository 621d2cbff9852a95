/** Entry point control (CloudEvent, topic rollout-control). */
import { cloudEvent } from '@google-cloud/functions-framework';
import { controlHandler } from '../handlers/control.ts';
import { runtimeFromEnvironment } from '../wiring.ts';

cloudEvent('control', controlHandler(runtimeFromEnvironment()));
