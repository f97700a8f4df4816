#!/usr/bin/env node
// A sweep's worker (forked with an IPC channel) dies with its sweep: the handler is set before
// anything loads, so a sweep killed while its workers start leaves no orphan training.
if (process.send != null) {
  if (!process.connected) process.exit(137);
  process.on('disconnect', () => process.exit(137));
  process.channel?.unref?.();
}
const { main } = await import('../dist/src/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
