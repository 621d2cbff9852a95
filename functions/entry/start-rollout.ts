/** Entry point startRollout (CloudEvent, topic rollout-requests). */
import { cloudEvent } from '@google-cloud/functions-framework';
import { startRolloutHandler } from '../handlers/start-rollout.ts';
import { runtimeFromEnvironment } from '../wiring.ts';

cloudEvent('startRollout', startRolloutHandler(runtimeFromEnvironment()));
