#!/usr/bin/env node
// A sweep's worker (forked with an IPC channel) dies with its sweep, so a killed sweep leaves no
// orphan training: set up before anything loads. Two signals, either suffices: the IPC channel
// closing, and the process being re-parented (the sweep's pid gone from our parent pid).
if (process.send != null) {
  const sweepPid = process.ppid;
  if (!process.connected) process.exit(137);
  process.on('disconnect', () => process.exit(137));
  process.channel?.unref?.();
  setInterval(() => {
    if (process.ppid !== sweepPid) process.exit(137);
  }, 500).unref();
}
// Output piped into a reader that stops early (`dalab backends | head`): stop quietly, as Unix tools do.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
const { main } = await import('../dist/src/cli/main.js');
process.exitCode = await main(process.argv.slice(2));
