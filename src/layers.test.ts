/**
 * The layers of src/, checked on every run: a folder imports only from folders on a lower layer
 * (or its own), and no files import each other in a circle. The order below is the architecture
 * docs/decisions.md describes ("One core under every door"); a new folder must be placed in it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const SRC = dirname(fileURLToPath(import.meta.url));

/** Bottom to top. Entries on one line share a layer and may not import each other. */
const LAYERS: readonly (readonly string[])[] = [
  ['config.ts', 'xml', 'model'],
  ['store'],
  ['import', 'mail', 'protocol'],
  ['core'],
  ['operations', 'observability'],
  ['console', 'cli', 'demo.ts', 'rest', 'frontend', 'api'],
  ['http'],
  ['service.ts'],
  ['main.ts'],
];

const layerOf = new Map(LAYERS.flatMap((names, level) => names.map((name) => [name, level] as const)));

function sources(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sources(path, out);
    else if (/\.(ts|mjs)$/.test(name) && !name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

/** The files of src/ a file imports (relative specifiers only). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'"]*?from\s+'(\.{1,2}\/[^']+)'/gm)) found.push(resolve(dirname(file), m[1]!));
  for (const m of text.matchAll(/^\s*import\s+'(\.{1,2}\/[^']+)'/gm)) found.push(resolve(dirname(file), m[1]!));
  return found.filter((f) => f.startsWith(SRC + '/'));
}

/** The top-level entry of src/ a file belongs to: its first folder, or the file itself. */
const topOf = (file: string): string => relative(SRC, file).split('/')[0]!;

const files = sources(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));

test('every folder and top-level file of src/ has a layer', () => {
  const unplaced = [...new Set(files.map(topOf))].filter((top) => !layerOf.has(top));
  assert.deepEqual(unplaced, [], 'add them to LAYERS');
});

test('imports run down the layers only', () => {
  const upward: string[] = [];
  for (const [file, imports] of graph) {
    const from = topOf(file);
    for (const target of imports) {
      const to = topOf(target);
      if (to === from) continue;
      if (layerOf.get(to)! >= layerOf.get(from)!) upward.push(`${relative(SRC, file)} -> ${relative(SRC, target)}`);
    }
  }
  assert.deepEqual(upward, []);
});

test('no files import each other in a circle', () => {
  const state = new Map<string, 'open' | 'done'>();
  const circles: string[] = [];
  const visit = (file: string, path: string[]): void => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'open') {
      circles.push([...path.slice(path.indexOf(file)), file].map((f) => relative(SRC, f)).join(' -> '));
      return;
    }
    state.set(file, 'open');
    for (const next of graph.get(file) ?? []) if (graph.has(next)) visit(next, [...path, file]);
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file, []);
  assert.deepEqual(circles, []);
});
