/** Entry point advanceRollout (HTTP, called by the rollout workflow; IAM-protected). */
import { http } from '@google-cloud/functions-framework';
import { advanceRolloutHandler } from '../handlers/advance-rollout.ts';
import { runtimeFromEnvironment } from '../wiring.ts';

http('advanceRollout', advanceRolloutHandler(runtimeFromEnvironment()));
