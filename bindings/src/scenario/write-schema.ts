/** Writes scenarios/oomsim-scenario.schema.json (run: `npm run scenario-schema`). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { scenarioJsonSchemaText } from './jsonschema.js';

const out = fileURLToPath(new URL('../../../scenarios/oomsim-scenario.schema.json', import.meta.url));
writeFileSync(out, scenarioJsonSchemaText());
console.log(`wrote ${out}`);
