/**
 * The published JSON Schema for scenario files, generated from the zod schema (zod's toJSONSchema, draft 2020-12,
 * input side: what authors write, with defaults). Written to scenarios/oomsim-scenario.schema.json by
 * `npm run scenario-schema`; test/scenario-jsonschema.test.ts checks the committed file is current.
 * Editors use it through `# yaml-language-server: $schema=oomsim-scenario.schema.json` or a `$schema` key.
 */
import { z } from 'zod';
import { ScenarioSchema } from './schema.js';

export const SCENARIO_SCHEMA_ID = 'https://oomsim.dev/schema/oomsim-scenario.schema.json';

export function scenarioJsonSchema(): Record<string, unknown> {
  const js = z.toJSONSchema(ScenarioSchema, { io: 'input', target: 'draft-2020-12' }) as Record<string, unknown>;
  return {
    $schema: js.$schema,
    $id: SCENARIO_SCHEMA_ID,
    title: 'oomsim scenario',
    description:
      'A Linux memory-management / OOM-killer scenario for oomsim: machine (RAM, swap, sysctls under their real names), cgroup tree (files under their real names), processes with workloads, timed actions. Generated from bindings/src/scenario/schema.ts; see docs/scenario-format.md.',
    ...Object.fromEntries(Object.entries(js).filter(([k]) => k !== '$schema')),
  };
}

/** The file text: 2-space JSON with a trailing newline. */
export function scenarioJsonSchemaText(): string {
  return JSON.stringify(scenarioJsonSchema(), null, 2) + '\n';
}
