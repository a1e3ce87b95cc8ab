/**
 * The dependency directions of the top-level folders ("rooms", STYLE.md › A layout that shows the
 * architecture): `protocol`, `contract` ← `lambdas` ← `local`, `ops`; `protocol` ← `client` ← `web`;
 * `lib` reads `contract`; `bin` builds `lib`; nothing imports `test/` or `bench/`. Read from the
 * source: every import, export-from and dynamic `import()` of every .ts file, with relative paths
 * resolved to the room they land in. Packages (`node:…`, `aws-cdk-lib`, …) are not rooms.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Folders that hold no project source: dependencies, build output, local data, scratch. */
const NOT_SOURCE = new Set(['node_modules', 'cdk.out', 'dist', '.git', '.data', '.test-data', '.scratch']);

/** The rooms each room may import besides itself. */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  protocol: [],
  contract: ['protocol'],
  lambdas: ['protocol', 'contract'],
  // The runner serves the browser page, which it bundles with web/build.ts (esbuild), as an operator
  // would before hosting it; it runs none of the page's code.
  local: ['lambdas', 'contract', 'protocol', 'web'],
  // The operator tools reuse the client CLI's command contract, exit codes and option handling.
  ops: ['lambdas', 'contract', 'protocol', 'client'],
  client: ['protocol'],
  web: ['client', 'protocol'],
  // lib names the handler entry files as strings (esbuild bundles them); it imports none of them.
  lib: ['contract', 'protocol'],
  bin: ['lib'],
};

/** Rooms without a list above may import any room, except these, which only they import. */
const PRIVATE_ROOMS = ['test', 'bench'];

/** Files at the top level (vitest.config.ts): their room is the repository root. */
const ROOT_FILES = '(root)';

/** The module specifiers of one source text: static and type-only imports, export-from, `import()`. */
function importSpecifiers(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((file) => file.fileName);
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    if (NOT_SOURCE.has(entry.name)) return [];
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.[cm]?tsx?$/.test(entry.name) ? [path] : [];
  });
}

/** Repository-relative, with forward slashes on every platform. */
const repoPath = (absolute: string) => relative(ROOT, absolute).split(sep).join('/');

function roomOf(path: string): string {
  return path.includes('/') ? path.slice(0, path.indexOf('/')) : ROOT_FILES;
}

interface Edge {
  readonly from: string;
  readonly to: string;
}

/** Every import between project files, as repository-relative paths. */
function projectImports(): Edge[] {
  return sourceFiles(ROOT).flatMap((file) =>
    importSpecifiers(readFileSync(file, 'utf8'))
      .filter((specifier) => specifier.startsWith('.') || specifier.startsWith('/'))
      .map((specifier) => ({ from: repoPath(file), to: repoPath(resolve(dirname(file), specifier)) })),
  );
}

/** Why an import breaks the rules, or undefined if it keeps them. */
function breach({ from, to }: Edge): string | undefined {
  const [source, target] = [roomOf(from), roomOf(to)];
  if (to.startsWith('../')) return 'leaves the repository';
  if (source === target) return undefined;
  // package.json is data, not code: the CLIs read their version from it (`--version`).
  if (to === 'package.json') return undefined;
  const allowed = MAY_IMPORT[source];
  if (allowed) {
    if (allowed.includes(target)) return undefined;
    return `${source}/ may import ${allowed.length ? allowed.map((room) => `${room}/`).join(', ') : 'no other room'}`;
  }
  if (PRIVATE_ROOMS.includes(target)) return `only ${target}/ imports ${target}/`;
  return undefined;
}

const show = ({ from, to }: Edge) => `${from} → ${to}`;

describe('room dependency directions', () => {
  const edges = projectImports();

  it('reads static, type-only, re-exported and dynamic imports, not comments or strings', () => {
    const source = [
      "import { a } from './a.ts';",
      "import type { B } from '../b.ts';",
      "export * from './c.ts';",
      "export { d } from './d.ts';",
      "import './e.ts';",
      "const f = await import('../f.ts');",
      "// import { g } from './g.ts';",
      'const h = "import { h } from \'./h.ts\'";',
      "import { readFileSync } from 'node:fs';",
    ].join('\n');
    expect(importSpecifiers(source)).toEqual([
      './a.ts',
      '../b.ts',
      './c.ts',
      './d.ts',
      './e.ts',
      '../f.ts',
      'node:fs',
    ]);
  });

  it('reads every room', () => {
    const rooms = new Set(edges.map((edge) => roomOf(edge.from)));
    for (const room of [...Object.keys(MAY_IMPORT).filter((name) => name !== 'protocol'), 'test', 'bench'])
      expect(rooms, room).toContain(room);
    // Sanity: known crossings are seen (a reader that found nothing would pass everything).
    expect(edges.map(show)).toContain('ops/invite.ts → lambdas/domain/directory.ts');
    expect(edges.map(show)).toContain('web/chat.ts → client/chat/messenger.ts');
  });

  it('has a rule for every top-level folder that holds source', () => {
    const rooms = new Set(sourceFiles(ROOT).map((file) => roomOf(repoPath(file))));
    const known = new Set([...Object.keys(MAY_IMPORT), ...PRIVATE_ROOMS, ROOT_FILES]);
    expect(
      [...rooms].filter((room) => !known.has(room)),
      'add the new room to MAY_IMPORT',
    ).toEqual([]);
  });

  it('points every import the allowed way', () => {
    const offending = edges.flatMap((edge) => {
      const why = breach(edge);
      return why ? [`${show(edge)}  (${why})`] : [];
    });
    expect(offending, `imports against the room rules (STYLE.md):\n  ${offending.join('\n  ')}\n`).toEqual(
      [],
    );
  });
});
