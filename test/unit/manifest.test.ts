import { existsSync, readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { describe, expect, it, vi } from 'vitest';
import { FUNCTION_NAMES, FUNCTIONS } from '../../contract/manifest.ts';
import { TABLE_NAMES } from '../../contract/schema.ts';
import { fakeLambdaEnvironment } from '../../lib/constructs/bundling.ts';

describe('function manifest', () => {
  it('names an entry file for every function, which builds that function', () => {
    for (const name of FUNCTION_NAMES) {
      const entry = FUNCTIONS[name].entry;
      expect(existsSync(entry), entry).toBe(true);
      expect(readFileSync(entry, 'utf8')).toContain(`awsSetup('${name}')`);
    }
  });

  it('exports a middy handler from every Lambda entry, the custom resource included', async () => {
    // What the stack sets (fake values, every table, bucket and secret of the settings' wiring): the
    // entries parse it at import, as on a cold start. Vitest undoes the stubs after the test.
    for (const [name, value] of Object.entries(fakeLambdaEnvironment())) vi.stubEnv(name, value);
    const entries = [
      ...FUNCTION_NAMES.map((name) => FUNCTIONS[name].entry),
      'lambdas/entry/server-public-key.ts',
    ];
    for (const entry of entries) {
      const { handler } = await import(pathToFileURL(entry).href);
      // middy's handler carries its middleware API.
      expect(typeof handler, entry).toBe('function');
      expect(typeof handler.use, entry).toBe('function');
      expect(typeof handler.before, entry).toBe('function');
    }
  });

  it('gives every WebSocket and HTTP route key to exactly one function', () => {
    const ws = FUNCTION_NAMES.flatMap((name) => [...FUNCTIONS[name].wsRoutes]);
    const http = FUNCTION_NAMES.flatMap((name) => [...FUNCTIONS[name].httpRoutes]);
    expect(new Set(ws).size).toBe(ws.length);
    expect(new Set(http).size).toBe(http.length);
    expect(ws).toEqual(expect.arrayContaining(['$connect', '$disconnect', '$default']));
    for (const key of http) expect(key).toMatch(/^(GET|PUT|POST|HEAD|DELETE|PATCH|OPTIONS|ANY) \/\S*$/);
  });

  it('grants only tables the schema defines', () => {
    for (const name of FUNCTION_NAMES) {
      for (const table of Object.keys(FUNCTIONS[name].tables)) expect(TABLE_NAMES).toContain(table);
    }
  });
});
