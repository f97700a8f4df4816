/**
 * `dalab data`: what datasets exist and are cached, what they hold, download, import, and a PNG
 * preview grid of any dataset's training images.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { BUILTIN_DATASETS, loadDataset } from '../data/datasets.js';
import { DOWNLOADABLE, datasetDir, datasetStatus, fileDigests, findDownloadable } from '../data/cache.js';
import type { ImageSet } from '../data/types.js';

const size = (bytes: number) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(0)} kB`);

export interface ListedDataset {
  name: string;
  kind: 'embedded' | 'rendered' | 'download' | 'generic';
  present: boolean;
  bytes?: number;
  description: string;
}

export function listDatasets(): ListedDataset[] {
  return [
    ...BUILTIN_DATASETS.map((d) => ({ name: d.name, kind: (d.name === 'synth-digits' ? 'rendered' : 'embedded') as ListedDataset['kind'], present: true, description: d.description })),
    ...DOWNLOADABLE.map((d) => {
      const s = datasetStatus(d);
      return { name: d.name, kind: 'download' as const, present: s.present, ...(s.bytes > 0 ? { bytes: s.bytes } : {}), description: d.description };
    }),
    { name: 'idx:PATH', kind: 'generic', present: true, description: "a folder in MNIST's naming: train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz], test-… or t10k-…" },
    { name: 'folder:PATH', kind: 'generic', present: true, description: 'train/<class>/*.png|jpg and test/<class>/… (one sub-folder per class)' },
  ];
}

export function formatList(rows: ListedDataset[]): string {
  return (
    rows
      .map((r) => {
        const state = r.kind === 'download' ? (r.present ? `cached ${size(r.bytes ?? 0)}` : 'not downloaded') : r.kind === 'generic' ? '' : r.kind;
        return `${r.name.padEnd(13)} ${state.padEnd(16)} ${r.description}`;
      })
      .join('\n') + `\ncache: ${path.dirname(datasetDir('x'))} (DALAB_DATA)\n`
  );
}

function describeSet(name: string, set: ImageSet): string {
  const counts = new Map<number, number>();
  for (const l of set.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const perClass = [...counts].sort((a, b) => a[0] - b[0]).map(([, n]) => n).join('/');
  return `  ${name.padEnd(6)} ${String(set.count).padStart(6)} images ${set.height}x${set.width}x${set.channels}  per class ${perClass}`;
}

export function datasetInfo(name: string): string {
  const lines: string[] = [];
  const downloadable = DOWNLOADABLE.find((d) => d.name === name);
  if (downloadable != null) {
    const dir = datasetDir(name);
    lines.push(`${name}: ${downloadable.description}`, `folder: ${dir}`);
    for (const f of downloadable.files) {
      const p = path.join(dir, f.name);
      if (fs.existsSync(p)) {
        const d = fileDigests(p);
        lines.push(`  ${f.name}  ${size(d.bytes)}  md5 ${d.md5}${f.md5 != null ? (d.md5 === f.md5 ? ' (matches)' : ` (expected ${f.md5})`) : ' (no published checksum)'}  sha256 ${d.sha256}`);
      } else lines.push(`  ${f.name}  not downloaded${f.optional ? ' (optional)' : ''}`);
    }
    if (!datasetStatus(downloadable).present) {
      lines.push(`run: dalab data download ${name}`);
      return lines.join('\n') + '\n';
    }
  } else {
    findBuiltinOrGeneric(name);
    lines.push(`${name}`);
  }
  const source = loadDataset(name, 'data info');
  lines.push(`classes: ${source.numClasses}`, describeSet('train', source.train), ...(source.val != null ? [describeSet('val', source.val)] : []), describeSet('test', source.test));
  return lines.join('\n') + '\n';
}

function findBuiltinOrGeneric(name: string): void {
  if (name.startsWith('idx:') || name.startsWith('folder:')) return;
  if (!BUILTIN_DATASETS.some((d) => d.name === name)) findDownloadable(name);
}

/** A PNG grid of the first `count` training images (scaled up `scale` times, nearest neighbour). */
export function previewPng(name: string, count = 100, scale = 2): Buffer {
  const set = loadDataset(name, 'data preview').train;
  const n = Math.min(count, set.count);
  const cols = Math.ceil(Math.sqrt(n));
  const rows = Math.ceil(n / cols);
  const gap = 2;
  const cell = (w: number) => w * scale + gap;
  const png = new PNG({ width: cols * cell(set.width) + gap, height: rows * cell(set.height) + gap });
  png.data.fill(255);
  const pixel = set.height * set.width * set.channels;
  for (let i = 0; i < n; i++) {
    const ox = gap + (i % cols) * cell(set.width);
    const oy = gap + Math.floor(i / cols) * cell(set.height);
    for (let y = 0; y < set.height * scale; y++) {
      for (let x = 0; x < set.width * scale; x++) {
        const src = i * pixel + (Math.floor(y / scale) * set.width + Math.floor(x / scale)) * set.channels;
        const dst = ((oy + y) * png.width + ox + x) * 4;
        const r = set.images[src]!;
        png.data[dst] = r;
        png.data[dst + 1] = set.channels === 3 ? set.images[src + 1]! : r;
        png.data[dst + 2] = set.channels === 3 ? set.images[src + 2]! : r;
        png.data[dst + 3] = 255;
      }
    }
  }
  return PNG.sync.write(png);
}
