#!/usr/bin/env node
// Runs the ava suite (compiled tests in dist/test) and ends with the plain line "N passed, N failed"
// computed from ava's TAP output. Exit code: ava's own.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const require = createRequire(import.meta.url);
// ava's package exports do not include its CLI: resolve it next to the package's main entry.
const avaCli = path.join(path.dirname(require.resolve('ava')), 'cli.mjs');
const child = spawn(process.execPath, [avaCli, '--tap', ...process.argv.slice(2)], { stdio: ['ignore', 'pipe', 'inherit'] });

let passed = 0;
let failed = 0;
let skipped = 0;
let buffer = '';
const count = (line) => {
  // TAP test points: "ok N - title", "not ok N - title", "... # SKIP" / "# TODO".
  if (/^not ok \d+/.test(line)) failed++;
  else if (/^ok \d+/.test(line)) {
    if (/#\s*(SKIP|TODO)/i.test(line)) skipped++;
    else passed++;
  }
};
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  buffer += chunk.toString();
  const lines = buffer.split('\n');
  buffer = lines.pop();
  lines.forEach(count);
});
child.on('close', (code) => {
  if (buffer) count(buffer);
  process.stdout.write(`\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
  process.exit(code ?? 1);
});
