/**
 * `dalab data`: what datasets exist and are cached, what they hold, download, import, and a PNG
 * preview grid of any dataset's training images.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PNG } from 'pngjs';
import { inject, injectable } from 'inversify';
import { DatasetRegistry } from '../data/registry.js';
import { isDownloadable, type DatasetProvider } from '../data/dataset.js';
import { dataRoot, datasetDir, datasetStatus, downloadDataset, fileDigests, importDataset, type DownloadOptions } from '../data/cache.js';
import type { ImageSet } from '../data/types.js';

const size = (bytes: number) => (bytes >= 1e9 ? `${(bytes / 1e9).toFixed(2)} GB` : bytes >= 1e6 ? `${(bytes / 1e6).toFixed(1)} MB` : `${(bytes / 1e3).toFixed(0)} kB`);

export interface ListedDataset {
  name: string;
  kind: DatasetProvider['kind'];
  present: boolean;
  bytes?: number;
  description: string;
}

function listed(provider: DatasetProvider): ListedDataset {
  const base = { name: provider.usage ?? provider.name, kind: provider.kind, description: provider.description };
  if (!isDownloadable(provider)) return { ...base, present: true };
  const s = datasetStatus(provider);
  return { ...base, present: s.present, ...(s.bytes > 0 ? { bytes: s.bytes } : {}) };
}

export function formatList(rows: ListedDataset[]): string {
  const width = Math.max(13, ...rows.map((r) => r.name.length));
  return (
    rows
      .map((r) => {
        const state = r.kind === 'download' ? (r.present ? `cached ${size(r.bytes ?? 0)}` : 'not downloaded') : r.kind === 'generic' ? '' : r.kind;
        return `${r.name.padEnd(width)} ${state.padEnd(16)} ${r.description}`;
      })
      .join('\n') + `\ncache: ${dataRoot()} (DALAB_DATA)\n`
  );
}

function describeSet(name: string, set: ImageSet): string {
  const counts = new Map<number, number>();
  for (const l of set.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const perClass = [...counts].sort((a, b) => a[0] - b[0]).map(([, n]) => n).join('/');
  return `  ${name.padEnd(6)} ${String(set.count).padStart(6)} images ${set.height}x${set.width}x${set.channels}  per class ${perClass}`;
}

/** The `dalab data` commands, over the datasets bound in the container. */
@injectable()
export class DataCommands {
  constructor(@inject(DatasetRegistry) private readonly registry: DatasetRegistry) {}

  cacheRoot(): string {
    return dataRoot();
  }

  downloadableNames(): string[] {
    return this.registry.downloadable().map((d) => d.name);
  }

  list(): ListedDataset[] {
    return this.registry.all().map(listed);
  }

  info(name: string): string {
    const lines: string[] = [];
    const { provider } = this.registry.resolve(name, 'data info');
    if (isDownloadable(provider)) {
      const dir = datasetDir(name);
      lines.push(`${name}: ${provider.description}`, `folder: ${dir}`);
      for (const f of provider.files) {
        const p = path.join(dir, f.name);
        if (fs.existsSync(p)) {
          const d = fileDigests(p);
          lines.push(`  ${f.name}  ${size(d.bytes)}  md5 ${d.md5}${f.md5 != null ? (d.md5 === f.md5 ? ' (matches)' : ` (expected ${f.md5})`) : ' (no published checksum)'}  sha256 ${d.sha256}`);
        } else lines.push(`  ${f.name}  not downloaded${f.optional ? ' (optional)' : ''}`);
      }
      if (!datasetStatus(provider).present) {
        lines.push(`run: dalab data download ${name}`);
        return lines.join('\n') + '\n';
      }
    } else lines.push(`${name}`);
    const source = this.registry.load(name, 'data info');
    lines.push(`classes: ${source.numClasses}`, describeSet('train', source.train), ...(source.val != null ? [describeSet('val', source.val)] : []), describeSet('test', source.test));
    return lines.join('\n') + '\n';
  }

  download(name: string, options: DownloadOptions = {}): ReturnType<typeof downloadDataset> {
    return downloadDataset(this.registry.findDownloadable(name), options);
  }

  import(name: string, from: string): ReturnType<typeof importDataset> {
    return importDataset(this.registry.findDownloadable(name), from);
  }

  previewPng(name: string, count = 100, scale = 2): Buffer {
    return previewPng(this.registry.load(name, 'data preview').train, count, scale);
  }
}

/** A PNG grid of the first `count` images of a set (scaled up `scale` times, nearest neighbour). */
function previewPng(set: ImageSet, count: number, scale: number): Buffer {
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
