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
