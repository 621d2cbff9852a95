/** Writes schema/rollout-request.schema.json from the zod schema (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { rolloutRequestJsonSchema } from '../functions/core/request-json-schema.ts';

const path = new URL('../schema/rollout-request.schema.json', import.meta.url);
writeFileSync(path, `${JSON.stringify(rolloutRequestJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path.pathname}`);
