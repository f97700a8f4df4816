/**
 * Progress of long work on stderr (stdout stays for results and --json): a live bar on a terminal,
 * a line per evaluation otherwise (logs, CI).
 */
import cliProgress from 'cli-progress';

export interface ProgressReporter {
  status(text: string): void;
  start(total: number, title: string): void;
  step(step: number, info: { loss?: number; targetAcc?: number; sourceAcc?: number }): void;
  evaluation(step: number, metrics: Record<string, number>): void;
  stop(): void;
}

const pct = (v: number | undefined) => (v == null || Number.isNaN(v) ? '  -  ' : `${(100 * v).toFixed(1)}%`);

export class StderrProgress implements ProgressReporter {
  private bar: cliProgress.SingleBar | null = null;
  private total = 0;
  private readonly tty: boolean;
  private started = 0;
  private lastLoss: number | undefined;

  constructor(private readonly quiet = false) {
    this.tty = process.stderr.isTTY === true;
  }

  status(text: string): void {
    if (!this.quiet) process.stderr.write(`${text}\n`);
  }

  start(total: number, title: string): void {
    this.total = total;
    this.started = Date.now();
    if (this.quiet) return;
    if (this.tty) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: process.stderr,
          format: `${title} |{bar}| {value}/{total} steps | loss {loss} | source {src} | target {tgt} | {speed} steps/s | eta {eta_formatted}`,
          hideCursor: true,
          etaBuffer: 50,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { loss: '  -  ', src: '  -  ', tgt: '  -  ', speed: '-' });
    } else {
      process.stderr.write(`${title}: ${total} steps\n`);
    }
  }

  step(step: number, info: { loss?: number; targetAcc?: number; sourceAcc?: number }): void {
    if (info.loss != null) this.lastLoss = info.loss;
    if (this.bar == null) return;
    const seconds = (Date.now() - this.started) / 1000;
    const payload: Record<string, string> = { loss: this.lastLoss?.toFixed(3) ?? '  -  ', speed: seconds > 0 ? (step / seconds).toFixed(1) : '-' };
    if (info.targetAcc != null) payload['tgt'] = pct(info.targetAcc);
    if (info.sourceAcc != null) payload['src'] = pct(info.sourceAcc);
    this.bar.update(step, payload);
  }

  evaluation(step: number, metrics: Record<string, number>): void {
    if (this.quiet || this.tty) return;
    const seconds = (Date.now() - this.started) / 1000;
    process.stderr.write(
      `  step ${step}/${this.total}  loss ${this.lastLoss?.toFixed(3) ?? '-'}  source_test_acc ${pct(metrics['source_test_acc'])}  target_test_acc ${pct(metrics['target_test_acc'])}  (${seconds.toFixed(0)} s)\n`,
    );
  }

  stop(): void {
    this.bar?.stop();
    this.bar = null;
  }
}
