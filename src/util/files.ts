import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Writes `bytes` to `file` atomically: into `<file>.partial-<pid>` beside it (its folder created),
 * then renamed into place. A failure leaves neither a partial file nor a truncated `file`.
 */
export function writeFileAtomic(file: string, bytes: string | NodeJS.ArrayBufferView): void {
  const partial = `${file}.partial-${process.pid}`;
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(partial, bytes);
    fs.renameSync(partial, file);
  } finally {
    fs.rmSync(partial, { force: true });
  }
}
