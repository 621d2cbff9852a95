/** Entry point onAlert (CloudEvent, topic rollout-alerts, Monitoring notification channel). */
import { cloudEvent } from '@google-cloud/functions-framework';
import { onAlertHandler } from '../handlers/on-alert.ts';
import { runtimeFromEnvironment } from '../wiring.ts';

cloudEvent('onAlert', onAlertHandler(runtimeFromEnvironment()));
