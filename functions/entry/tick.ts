/** Entry point tick (CloudEvent, topic rollout-tick, Cloud Scheduler every minute). */
import { cloudEvent } from '@google-cloud/functions-framework';
import { tickHandler } from '../handlers/tick.ts';
import { runtimeFromEnvironment } from '../wiring.ts';

cloudEvent('tick', tickHandler(runtimeFromEnvironment()));
