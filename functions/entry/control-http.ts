/** Entry point controlHttp (HTTP operator API; IAM-protected). */
import { http } from '@google-cloud/functions-framework';
import { controlHttpHandler } from '../handlers/control-http.ts';
import { runtimeFromEnvironment } from '../wiring.ts';

http('controlHttp', controlHttpHandler(runtimeFromEnvironment()));
