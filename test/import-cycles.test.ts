// The house has no import cycle: every module under src/ (type-only imports included, since they
// tie the layers together as much as value imports do) is reachable without coming back to itself.
// Forty lines rather than madge/dpdm: those read the compiled JS (where type imports are gone) or
// bring a TypeScript parser and dozens of packages, and this runs inside npm test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/** Relative imports of each .ts file under `root`, as repository paths. */
export function importGraph(root: string): Map<string, string[]> {
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join(root, f));
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(/(?:\bfrom\s*|\bimport\s*\(?\s*)['"](\.{1,2}\/[^'"]+)['"]/g)].map((m) => m[1]);
    graph.set(
      file,
      specs.map((s) => path.join(path.dirname(file), s.replace(/\.js$/, '.ts'))),
    );
  }
  return graph;
}

/** Every cycle's member list, found by depth-first search (one report per back edge). */
export function cycles(graph: Map<string, string[]>): string[][] {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (n: string) => {
    state.set(n, 'open');
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === 'open') found.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m) && graph.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, 'done');
  };
  for (const n of [...graph.keys()].sort()) if (!state.has(n)) visit(n);
  return found;
}

test('the cycle finder finds a planted cycle and passes a tree', () => {
  const g = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['a']],
  ]);
  assert.deepEqual(cycles(g), [['a', 'b', 'c', 'a']]);
  assert.deepEqual(
    cycles(
      new Map([
        ['a', ['b', 'c']],
        ['b', ['c']],
        ['c', []],
      ]),
    ),
    [],
  );
});

test('src/ has no import cycle', () => {
  const g = importGraph('src');
  assert.ok(g.size > 50, `read ${g.size} modules`);
  assert.ok(
    [...g.values()].every((deps) => deps.every((d) => g.has(d))),
    'every relative import resolves to a file',
  );
  assert.deepEqual(
    cycles(g).map((c) => c.join(' -> ')),
    [],
  );
});
