/** Text tables the CLI prints. */
import type { BenchResult } from '../app/bench.js';

export function formatBenchHeader(peer = false): string {
  const base = `${'backend'.padEnd(15)}${'backbone'.padEnd(10)}${'input'.padEnd(11)}${'strategy'.padEnd(10)}${'threads'.padStart(8)}${'steps/s'.padStart(9)}${'train img/s'.padStart(13)}${'eval img/s'.padStart(12)}${'tensors'.padStart(9)}`;
  return peer ? `${base}${'torch img/s'.padStart(13)}${'ratio'.padStart(8)}` : base;
}

export function formatBenchRow(r: BenchResult): string {
  const base = `${r.backend.padEnd(15)}${r.backbone.padEnd(10)}${r.input.join('x').padEnd(11)}${r.strategy.padEnd(10)}${String(r.threads).padStart(8)}${r.stepsPerSecond.toFixed(2).padStart(9)}${r.imagesPerSecond.toFixed(0).padStart(13)}${r.evalImagesPerSecond.toFixed(0).padStart(12)}${String(r.numTensors).padStart(9)}`;
  if (r.peerImagesPerSecond == null || r.ratioToPeer == null) return base;
  return `${base}${r.peerImagesPerSecond.toFixed(0).padStart(13)}${`${r.ratioToPeer.toFixed(2)}x`.padStart(8)}`;
}

/** Ratios of training throughput between backends measured in the same run, per case. */
export function formatRatios(results: readonly BenchResult[]): string {
  const key = (r: BenchResult) => `${r.backbone} ${r.input.join('x')} ${r.strategy}`;
  const lines: string[] = [];
  const pairs: [string, string][] = [['wasm', 'cpu'], ['tensorflow', 'wasm'], ['tensorflow-gpu', 'tensorflow']];
  for (const [a, b] of pairs) {
    for (const ra of results.filter((r) => r.backend === a)) {
      const rb = results.find((r) => r.backend === b && key(r) === key(ra));
      if (rb != null) lines.push(`${a}/${b} ${key(ra)}: ${(ra.imagesPerSecond / rb.imagesPerSecond).toFixed(1)}x`);
    }
  }
  return lines.length > 0 ? `\n${lines.join('\n')}\n` : '';
}
