/**
 * The dataset cache: DALAB_DATA (default $XDG_CACHE_HOME/dalab/data, else ~/.cache/dalab/data),
 * one folder per downloadable dataset holding its authors' files under their own names.
 *
 * Downloads try DALAB_DATA_MIRROR first (`$MIRROR/<dataset>/<file>`), then the official locations
 * in order. Each file streams into a temporary file in the dataset's folder while its digest is
 * computed; only a complete file whose checksum matches is renamed into place, so a partial,
 * interrupted or corrupt download never enters the cache. `import` copies files the user already
 * has, with the same checks.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { UserError, messages } from '../messages.js';

export interface RemoteFile {
  name: string;
  /** Official locations, tried in order after the mirror. */
  urls: string[];
  md5?: string;
  sha256?: string;
  /** Size in bytes, when known (shown by `data list` before a download). */
  bytes?: number;
  /** Not needed to load the dataset (e.g. SVHN's extra_32x32.mat): not downloaded by default. */
  optional?: boolean;
}

/** What the cache needs of a dataset (its provider in src/data/datasets/ is one). */
export interface DownloadableDataset {
  readonly name: string;
  readonly description: string;
  readonly files: readonly RemoteFile[];
}

export function dataRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env['DALAB_DATA']) return path.resolve(env['DALAB_DATA']);
  const cache = env['XDG_CACHE_HOME'] ? env['XDG_CACHE_HOME'] : path.join(os.homedir(), '.cache');
  return path.join(cache, 'dalab', 'data');
}

export function datasetDir(name: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.join(dataRoot(env), name);
}

/** The required files of a dataset that are not in the cache. */
export function missingFiles(entry: DownloadableDataset, env: NodeJS.ProcessEnv = process.env): RemoteFile[] {
  const dir = datasetDir(entry.name, env);
  return entry.files.filter((f) => !f.optional && !fs.existsSync(path.join(dir, f.name)));
}

/** Fails at once, with the command that fixes it, when a dataset's files are not cached. */
export function requireCached(entry: DownloadableDataset, field: string, env: NodeJS.ProcessEnv = process.env): string {
  const missing = missingFiles(entry, env);
  const dir = datasetDir(entry.name, env);
  if (missing.length > 0) throw new UserError(messages.datasetNotDownloaded(field, entry.name, missing.map((f) => f.name), dir));
  return dir;
}

interface Digests {
  md5: string;
  sha256: string;
  bytes: number;
}

function checksumProblem(file: RemoteFile, got: Digests): string | null {
  if (file.bytes != null && got.bytes !== file.bytes) return `size ${got.bytes} bytes, expected ${file.bytes}`;
  if (file.md5 != null && got.md5 !== file.md5) return `md5 ${got.md5}, expected ${file.md5}`;
  if (file.sha256 != null && got.sha256 !== file.sha256) return `sha256 ${got.sha256}, expected ${file.sha256}`;
  return null;
}

export function fileDigests(file: string): Digests {
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  const fd = fs.openSync(file, 'r');
  const chunk = Buffer.alloc(1 << 20);
  let bytes = 0;
  try {
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      md5.update(chunk.subarray(0, n));
      sha.update(chunk.subarray(0, n));
      bytes += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return { md5: md5.digest('hex'), sha256: sha.digest('hex'), bytes };
}

export interface DownloadOptions {
  env?: NodeJS.ProcessEnv;
  /** Also fetch optional files. */
  all?: boolean;
  /** Overrides the dataset's file list (tests use fixture files with their own checksums). */
  files?: RemoteFile[];
  onProgress?: (event: { file: string; url: string; received: number; total?: number; done?: boolean }) => void;
}

/** Streams `url` into `tmp` while hashing; throws on a network error or a short body (also used for pretrained weights). */
export async function fetchTo(url: string, tmp: string, onChunk: (received: number, total?: number) => void): Promise<Digests> {
  const response = await fetch(url, { redirect: 'follow' });
  if (!response.ok || response.body == null) throw new Error(`HTTP ${response.status}`);
  const length = response.headers.get('content-length');
  const total = length != null ? Number(length) : undefined;
  const md5 = createHash('md5');
  const sha = createHash('sha256');
  const fd = fs.openSync(tmp, 'w');
  let bytes = 0;
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      fs.writeSync(fd, chunk);
      md5.update(chunk);
      sha.update(chunk);
      bytes += chunk.length;
      onChunk(bytes, total);
    }
  } finally {
    fs.closeSync(fd);
  }
  if (total != null && bytes !== total) throw new Error(`transfer ended after ${bytes} of ${total} bytes`);
  return { md5: md5.digest('hex'), sha256: sha.digest('hex'), bytes };
}

export function describeError(error: unknown): string {
  const e = error as Error & { cause?: { code?: string; message?: string } };
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

/** Downloads the dataset's missing files into the cache; returns the files fetched. */
export async function downloadDataset(entry: DownloadableDataset, options: DownloadOptions = {}): Promise<{ dir: string; fetched: string[]; present: string[] }> {
  const env = options.env ?? process.env;
  const dir = datasetDir(entry.name, env);
  fs.mkdirSync(dir, { recursive: true });
  const mirror = env['DALAB_DATA_MIRROR']?.replace(/\/+$/, '');
  const fetched: string[] = [];
  const present: string[] = [];
  for (const file of options.files ?? entry.files) {
    if (file.optional && !options.all) continue;
    const target = path.join(dir, file.name);
    if (fs.existsSync(target)) {
      present.push(file.name);
      continue;
    }
    const urls = [...(mirror ? [`${mirror}/${entry.name}/${file.name}`] : []), ...file.urls];
    const tries: string[] = [];
    let done = false;
    for (const url of urls) {
      const tmp = path.join(dir, `.partial-${file.name}-${process.pid}`);
      try {
        const digests = await fetchTo(url, tmp, (received, total) => options.onProgress?.({ file: file.name, url, received, ...(total != null ? { total } : {}) }));
        const problem = checksumProblem(file, digests);
        if (problem != null) throw new Error(`checksum mismatch: ${problem}`);
        fs.renameSync(tmp, target);
        options.onProgress?.({ file: file.name, url, received: digests.bytes, done: true });
        fetched.push(file.name);
        done = true;
        break;
      } catch (error) {
        tries.push(`${url}: ${describeError(error)}`);
      } finally {
        fs.rmSync(tmp, { force: true });
      }
    }
    if (!done) throw new UserError(messages.downloadFailed(entry.name, file.name, tries));
  }
  return { dir, fetched, present };
}

/** Copies a dataset's files from a local folder into the cache after the same checks as a download. */
export function importDataset(entry: DownloadableDataset, from: string, env: NodeJS.ProcessEnv = process.env): { dir: string; imported: string[] } {
  const source = path.resolve(from);
  const wanted = entry.files.filter((f) => !f.optional || fs.existsSync(path.join(source, f.name)));
  const missing = wanted.filter((f) => !fs.existsSync(path.join(source, f.name)));
  if (missing.length > 0) throw new UserError(messages.importMissing(entry.name, source, missing.map((f) => f.name)));
  const dir = datasetDir(entry.name, env);
  fs.mkdirSync(dir, { recursive: true });
  const imported: string[] = [];
  for (const file of wanted) {
    const problem = checksumProblem(file, fileDigests(path.join(source, file.name)));
    if (problem != null) throw new UserError(messages.importChecksum(entry.name, file.name, problem));
    const tmp = path.join(dir, `.partial-${file.name}-${process.pid}`);
    fs.copyFileSync(path.join(source, file.name), tmp);
    fs.renameSync(tmp, path.join(dir, file.name));
    imported.push(file.name);
  }
  return { dir, imported };
}

export interface DatasetStatus {
  name: string;
  description: string;
  present: boolean;
  /** Bytes in the cache (present files). */
  bytes: number;
  files: { name: string; present: boolean; bytes?: number; optional: boolean }[];
}

export function datasetStatus(entry: DownloadableDataset, env: NodeJS.ProcessEnv = process.env): DatasetStatus {
  const dir = datasetDir(entry.name, env);
  const files = entry.files.map((f) => {
    const p = path.join(dir, f.name);
    const present = fs.existsSync(p);
    const bytes = present ? fs.statSync(p).size : f.bytes;
    return { name: f.name, present, ...(bytes != null ? { bytes } : {}), optional: f.optional === true };
  });
  return {
    name: entry.name,
    description: entry.description,
    present: files.every((f) => f.present || f.optional),
    bytes: files.filter((f) => f.present).reduce((a, f) => a + (f.bytes ?? 0), 0),
    files,
  };
}
