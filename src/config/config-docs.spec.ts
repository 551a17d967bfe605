import { readFileSync } from 'node:fs';
import { configSchema, CONFIG_VARIABLES } from './gateway.config.js';

/** The tables of docs/configuration.md, as `name → default` ('—' where there is none). */
function documentedVariables(): Map<string, string> {
  const page = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  // Cells may be padded, as a Markdown formatter aligns them.
  const rows = [...page.matchAll(/^\|\s*`([A-Z0-9_]+)`\s*\|\s*([^|]+?)\s*\|/gm)];
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

describe('docs/configuration.md', () => {
  const documented = documentedVariables();
  const rowCount = [
    ...readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8').matchAll(
      /^\|\s*`[A-Z0-9_]+`/gm,
    ),
  ].length;

  it('should list exactly the variables the schema validates, each once', () => {
    expect([...documented.keys()].sort()).toEqual([...CONFIG_VARIABLES].sort());
    expect(documented.size).toBe(rowCount);
  });

  it.each(CONFIG_VARIABLES)('should give the schema default of %s', (name) => {
    const text = documented.get(name) ?? '';
    expect(text.startsWith('—') ? '—' : text).toBe(schemaDefault(name));
  });
});
