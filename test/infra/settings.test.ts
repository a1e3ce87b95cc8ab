/**
 * The one settings table (contract/settings.ts) against what operators read and edit: cdk.json's
 * `context`, the CDK context table of docs/OPERATIONS.md and the local runner's table in README.md.
 * A setting added, removed or given another default in one place and not the others fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SETTINGS, type Setting } from '../../contract/settings.ts';

const settings = Object.values(SETTINGS) as Setting[];

/** How the docs write a default: the value, or "off" for a setting that is off unless set. */
const written = (setting: Setting) => (setting.default === undefined ? 'off' : String(setting.default));

/**
 * The rows of the Markdown table under `heading`: key → default, as written. A row may name several
 * keys with as many defaults (`` `a`, `b` | 1, 2 ``).
 */
function tableUnder(file: string, heading: string): Map<string, string> {
  const text = readFileSync(file, 'utf8');
  const from = text.indexOf(heading);
  expect(from, `${file} has "${heading}"`).toBeGreaterThanOrEqual(0);
  const lines = text.slice(from).split('\n');
  const start = lines.findIndex((line) => line.startsWith('|'));
  const rows = new Map<string, string>();
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [keys = '', defaults = ''] = line
      .split('|')
      .slice(1, 3)
      .map((cell) => cell.trim());
    const names = keys.split(',').map((key) => key.trim().replace(/`/g, ''));
    const values = defaults.split(',').map((value) => value.trim().replace(/`/g, ''));
    for (const [i, name] of names.entries())
      rows.set(name, values.length === names.length ? values[i]! : values[0]!);
  }
  return rows;
}

describe('the settings table', () => {
  it("is what cdk.json's context holds: every setting with a default, at that default, and nothing else", () => {
    const context = JSON.parse(readFileSync('cdk.json', 'utf8')).context as Record<string, unknown>;
    const ours = Object.fromEntries(Object.entries(context).filter(([key]) => !key.startsWith('@')));
    const expected = Object.fromEntries(
      settings.filter((s) => s.context && s.default !== undefined).map((s) => [s.context, s.default]),
    );
    expect(ours).toEqual(expected);
  });

  it('is what docs/OPERATIONS.md lists as CDK context, key by key with its default', () => {
    const documented = tableUnder('docs/OPERATIONS.md', '## Configure');
    const expected = new Map(settings.filter((s) => s.context).map((s) => [s.context!, written(s)]));
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(expected));
  });

  it("is what README.md lists as the local runner's environment, variable by variable with its default", () => {
    const documented = tableUnder('README.md', '### Local configuration');
    const expected = new Map(settings.filter((s) => s.local).map((s) => [s.env!, written(s)]));
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(expected));
  });

  it('names each context key and environment variable once', () => {
    const contexts = settings.flatMap((s) => (s.context ? [s.context] : []));
    const envs = settings.flatMap((s) => (s.env ? [s.env] : []));
    expect(new Set(contexts).size).toBe(contexts.length);
    expect(new Set(envs).size).toBe(envs.length);
  });
});
