/**
 * Layers import downwards only (README, "Development"): util, backend, config < data, models,
 * losses < train (and adapters/) < tracking < report < app < cli. src/container.ts wires everything.
 * Files directly in src/ (messages, version, types) sit at the bottom. The CLI imports only the
 * application layer, plus the container, messages, version and config parsing.
 * This test reads every import of the TypeScript sources and fails on one that points upwards.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import test from 'ava';
import { ROOT } from './helpers.js';

const RANK: Record<string, number> = {
  '': 0, util: 0, backend: 0, config: 0, types: 0,
  data: 1, models: 1, losses: 1,
  train: 2, adapters: 2,
  tracking: 3,
  report: 4,
  app: 5,
  cli: 6,
};

/** The layer of a file: its folder under src/ ('' for files directly in src/), or 'adapters'. */
function layerOf(file: string): string | null {
  const rel = path.relative(ROOT, file).split(path.sep);
  if (rel[0] === 'adapters') return 'adapters';
  if (rel[0] !== 'src') return null;
  return rel.length === 2 ? '' : rel[1]!;
}

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Relative imports of a TypeScript file, type-only ones included (they couple layers too). */
function importsOf(file: string, text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/g)) found.push(m[1]!);
  for (const m of text.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g)) found.push(m[1]!);
  return found.map((spec) => path.resolve(path.dirname(file), spec.replace(/\.js$/, '.ts')));
}

/** The sources the rule covers, with their text. */
function tree(): Map<string, string> {
  const files = [...sources(path.join(ROOT, 'src')), ...sources(path.join(ROOT, 'adapters'))];
  return new Map(files.map((f) => [f, fs.readFileSync(f, 'utf8')]));
}

/** Every import that points upwards, as 'from -> to (why)'. */
function upwardImports(files: Map<string, string>): string[] {
  const bad: string[] = [];
  for (const [file, text] of files) {
    const from = layerOf(file);
    if (from == null || path.basename(file) === 'container.ts' && from === '') continue;
    for (const target of importsOf(file, text)) {
      const to = layerOf(target);
      if (to == null) continue;
      const rel = `${path.relative(ROOT, file)} -> ${path.relative(ROOT, target)}`;
      if (to === '' && path.basename(target) === 'container.ts') {
        if (from !== 'cli') bad.push(`${rel} (only the CLI uses the composition root)`);
        continue;
      }
      if (RANK[from] == null || RANK[to] == null) {
        bad.push(`${rel} (a layer the rule does not know: add it to RANK)`);
        continue;
      }
      if (from === 'cli') {
        const allowed = to === 'cli' || to === 'app' || to === '' || (to === 'config' && /config[\\/]load\.ts$/.test(target));
        if (!allowed) bad.push(`${rel} (the CLI imports only app/, the container, messages, version and config parsing)`);
        continue;
      }
      if (RANK[to]! > RANK[from]!) bad.push(`${rel} (${from || 'src'} may not import ${to})`);
    }
  }
  return bad;
}

test('layers import downwards only (src/ and adapters/)', (t) => {
  const bad = upwardImports(tree());
  t.deepEqual(bad, [], `upward imports:\n${bad.join('\n')}`);
});

test('the import check fails on an upward import (a planted one is found)', (t) => {
  const files = tree();
  files.set(path.join(ROOT, 'src', 'data', 'planted.ts'), "import type { Tracker } from '../tracking/tracker.js';\n");
  files.set(path.join(ROOT, 'src', 'cli', 'planted.ts'), "import { runLoop } from '../train/loop.js';\n");
  const bad = upwardImports(files);
  t.true(bad.some((line) => line.startsWith(path.join('src', 'data', 'planted.ts'))), bad.join('\n'));
  t.true(bad.some((line) => line.startsWith(path.join('src', 'cli', 'planted.ts'))), bad.join('\n'));
});
