/** Entry point advanceDue (CloudEvent, topic rollout-advance, one message per rollout the tick hands out). */
import { cloudEvent } from '@google-cloud/functions-framework';
import { advanceDueHandler } from '../handlers/advance-due.ts';
import { runtimeFromEnvironment } from '../wiring.ts';

cloudEvent('advanceDue', advanceDueHandler(runtimeFromEnvironment()));
