import { readFileSync } from 'node:fs';
import { configSchema, CONFIG_VARIABLES } from './gateway.config.js';

/** The README's configuration table, as `name → default` ('—' where there is none). */
function documentedVariables(): Map<string, string> {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(
    readme.indexOf('## Configuration'),
    readme.indexOf('\n## ', readme.indexOf('## Configuration') + 1),
  );
  // Cells may be padded, as a Markdown formatter aligns them.
  const rows = [...section.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|\s*([^|]+?)\s*\|/gm)];
  return new Map(rows.map(([, name, value]) => [name!, value!.trim().replace(/^`(.*)`$/, '$1')]));
}

/** What the schema gives a variable that is not set, as the table writes it. */
function schemaDefault(name: string): string {
  const shape = configSchema.shape as Record<
    string,
    { safeParse(value: unknown): { success: boolean; data?: unknown } }
  >;
  const result = shape[name]!.safeParse(undefined);
  if (!result.success || result.data === undefined) return '—';
  const value = result.data as string | number | boolean | string[];
  return Array.isArray(value) ? value.join(',') : String(value);
}

describe('README configuration table', () => {
  const documented = documentedVariables();

  it('should list exactly the variables the schema validates', () => {
    expect([...documented.keys()].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it.each(CONFIG_VARIABLES)('should give the schema default of %s', (name) => {
    const text = documented.get(name) ?? '';
    expect(text.startsWith('—') ? '—' : text).toBe(schemaDefault(name));
  });
});
