/**
 * The scores of the unsupervised validators (entropy.ts, im.ts, snd.ts), computed from a
 * checkpoint's predictions on unlabelled target images only (no target label is read). Higher is
 * better for every score, so selection takes the maximum. `probs` is [n, k] row-major softmax output.
 *
 * - entropy: minus the mean prediction entropy, -1/n sum_i H(p_i) (Morerio et al., ICLR 2018:
 *   minimal-entropy correlation alignment, entropy as a validation criterion).
 * - im: information maximisation, H(mean_i p_i) - 1/n sum_i H(p_i): confident and diverse
 *   predictions (Gomes et al., NeurIPS 2010; SHOT, Liang et al., ICML 2020).
 * - snd: soft neighbourhood density (Saito et al., ICCV 2021): L2-normalise each p_i, similarities
 *   s_ij = <p_i, p_j> / tau (tau = 0.05) with j != i, softmax over j, and the mean entropy of those
 *   rows; high when predictions form dense neighbourhoods.
 */
function rowEntropy(p: ArrayLike<number>, offset: number, k: number): number {
  let h = 0;
  for (let j = 0; j < k; j++) {
    const v = p[offset + j]!;
    if (v > 0) h -= v * Math.log(v);
  }
  return h;
}

export function entropyScore(probs: ArrayLike<number>, n: number, k: number): number {
  let sum = 0;
  for (let i = 0; i < n; i++) sum += rowEntropy(probs, i * k, k);
  return -sum / n;
}

export function imScore(probs: ArrayLike<number>, n: number, k: number): number {
  const marginal = new Float64Array(k);
  for (let i = 0; i < n; i++) for (let j = 0; j < k; j++) marginal[j]! += probs[i * k + j]! / n;
  return rowEntropy(marginal, 0, k) + entropyScore(probs, n, k);
}

export function sndScore(probs: ArrayLike<number>, n: number, k: number, tau = 0.05): number {
  if (n < 2) return NaN;
  const unit = new Float64Array(n * k);
  for (let i = 0; i < n; i++) {
    let norm = 0;
    for (let j = 0; j < k; j++) norm += probs[i * k + j]! ** 2;
    norm = Math.sqrt(norm) || 1;
    for (let j = 0; j < k; j++) unit[i * k + j] = probs[i * k + j]! / norm;
  }
  const row = new Float64Array(n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    let max = -Infinity;
    for (let m = 0; m < n; m++) {
      if (m === i) continue;
      let dot = 0;
      for (let j = 0; j < k; j++) dot += unit[i * k + j]! * unit[m * k + j]!;
      row[m] = dot / tau;
      if (row[m]! > max) max = row[m]!;
    }
    let z = 0;
    for (let m = 0; m < n; m++) if (m !== i) z += Math.exp(row[m]! - max);
    let h = 0;
    for (let m = 0; m < n; m++) {
      if (m === i) continue;
      const q = Math.exp(row[m]! - max) / z;
      if (q > 0) h -= q * Math.log(q);
    }
    total += h;
  }
  return total / n;
}
