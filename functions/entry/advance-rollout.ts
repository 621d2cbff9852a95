/** Entry point advanceRollout (HTTP, called by the rollout workflow; IAM-protected). */
import { http } from '@google-cloud/functions-framework';
import { advanceRolloutFunction } from '../handlers/http-functions.ts';
import { runtimeFromEnvironment } from '../wiring.ts';

http('advanceRollout', advanceRolloutFunction(runtimeFromEnvironment()));
