import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes `bytes` to `file` atomically: into `<file>.partial-<pid>` beside it (its folder created),
 * then renamed into place. A failure leaves neither a partial file nor a truncated `file`. With
 * `fsync`, the data reach the disk before the rename (a power loss leaves the old file or the new).
 */
export function writeFileAtomic(file: string, bytes: string | NodeJS.ArrayBufferView, options: { fsync?: boolean } = {}): void {
  const partial = `${file}.partial-${process.pid}`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    if (options.fsync) {
      const fd = fs.openSync(partial, 'w');
      try {
        fs.writeFileSync(fd, bytes);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } else {
      fs.writeFileSync(partial, bytes);
    }
    fs.renameSync(partial, file);
  } finally {
    fs.rmSync(partial, { force: true });
  }
}

/**
 * `rel` checked as a path inside a folder: relative, '/'-separated, no '.' / '..' / empty segments,
 * no backslash or NUL. Throws an Error naming `what` otherwise (an artifact name, a listed file).
 */
export function checkRelativePath(rel: string, what: string): string {
  const segments = rel.split('/');
  if (rel === '' || path.isAbsolute(rel) || /[\\\0]/.test(rel) || segments.some((s) => s === '' || s === '.' || s === '..')) {
    throw new Error(`${what} '${rel}' would lie outside its folder (only relative paths without '..' are allowed)`);
  }
  return rel;
}

/** `root`/`rel` after checkRelativePath. */
export function joinInside(root: string, rel: string, what: string): string {
  return path.join(root, ...checkRelativePath(rel, what).split('/'));
}

/**
 * Throws when `rel` under `root` is, or passes through, a symbolic link that leads outside `root`
 * (a file handed over from elsewhere must not make dalab read or upload what lies beyond it).
 */
export function checkStaysInside(root: string, rel: string, what: string): void {
  const realRoot = fs.realpathSync(root);
  const real = fs.realpathSync(joinInside(root, rel, what));
  if (real !== realRoot && !real.startsWith(realRoot + path.sep)) throw new Error(`${what} '${rel}' is a symbolic link to ${real}, outside ${root}`);
}
