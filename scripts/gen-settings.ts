/**
 * Writes package.json `contributes.configuration` from SETTINGS in src/core/config.ts, so the extension
 * contributes exactly the keys the CLI reads. Run: `npx tsx scripts/gen-settings.ts`. A unit test
 * (test/extension/settings.test.ts) fails when package.json is out of date.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { SETTINGS, SettingSpec } from '../src/core/config';

type Schema = Record<string, unknown>;

function schemaType(spec: SettingSpec): string | string[] {
  return spec.type.includes('|') ? spec.type.split('|') : spec.type;
}

/** The JSON schema VS Code shows and validates for one setting. */
export function settingSchema(spec: SettingSpec, order: number): Schema {
  const schema: Schema = { type: schemaType(spec), default: spec.default, description: spec.description, order };
  if (spec.enum) schema.enum = [...spec.enum];
  if (spec.minimum !== undefined) schema.minimum = spec.minimum;
  if (spec.maximum !== undefined) schema.maximum = spec.maximum;
  if (spec.items) schema.items = spec.itemEnum ? { type: spec.items, enum: [...spec.itemEnum] } : { type: spec.items };
  if (spec.length !== undefined) { schema.minItems = spec.length; schema.maxItems = spec.length; }
  if (spec.uniqueItems) schema.uniqueItems = true;
  if (spec.scope) schema.scope = spec.scope;
  return schema;
}

export function contributedConfiguration(): { title: string; properties: Record<string, Schema> } {
  const properties: Record<string, Schema> = {};
  SETTINGS.forEach((spec, index) => { properties[spec.key] = settingSchema(spec, index); });
  return { title: 'HEAT Lens', properties };
}

if (require.main === module) {
  const file = path.join(__dirname, '..', 'package.json');
  const manifest = JSON.parse(readFileSync(file, 'utf8'));
  manifest.contributes = { ...manifest.contributes, configuration: contributedConfiguration() };
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
  console.log(`Wrote ${SETTINGS.length} settings to ${file}.`);
}
