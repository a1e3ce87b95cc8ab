import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, FUNCTIONS } from '../../contract/manifest.ts';
import { TABLE_NAMES } from '../../contract/schema.ts';

describe('function manifest', () => {
  it('names an entry file for every function, which builds that function', () => {
    for (const name of FUNCTION_NAMES) {
      const entry = FUNCTIONS[name].entry;
      expect(existsSync(entry), entry).toBe(true);
      expect(readFileSync(entry, 'utf8')).toContain(`awsSetup('${name}')`);
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
