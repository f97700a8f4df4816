/**
 * A request to stop (SIGTERM, as Slurm pre-empts; SIGINT, Ctrl-C): the training loop writes a
 * resume checkpoint at the end of the step in progress and the run ends KILLED; a sweep forwards
 * the signal to its workers and starts no new combination.
 */
export class StopSignal {
  signal: NodeJS.Signals | null = null;
  private readonly listeners: ((signal: NodeJS.Signals) => void)[] = [];

  request(signal: NodeJS.Signals): void {
    if (this.signal != null) return;
    this.signal = signal;
    for (const listener of this.listeners) listener(signal);
  }

  onRequest(listener: (signal: NodeJS.Signals) => void): void {
    this.listeners.push(listener);
  }
}

/** The exit code of a process stopped by `signal` (128 + its number, as a shell reports it). */
export function signalExitCode(signal: NodeJS.Signals | null): number {
  return signal === 'SIGINT' ? 130 : 143;
}
