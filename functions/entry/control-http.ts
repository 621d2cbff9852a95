/** Entry point controlHttp (HTTP operator API; IAM-protected). */
import { http } from '@google-cloud/functions-framework';
import { controlHttpFunction } from '../handlers/http-functions.ts';
import { runtimeFromEnvironment } from '../wiring.ts';

http('controlHttp', controlHttpFunction(runtimeFromEnvironment()));
