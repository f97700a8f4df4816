/**
 * `dev`: Deep Embedded Validation (You et al., "Towards Accurate Model Selection in Deep
 * Unsupervised Domain Adaptation", ICML 2019). The target risk is estimated from the labelled
 * source validation images, each weighted by how target-like its features are:
 *
 *   1. a domain classifier on features, source (0) vs target (1): logistic regression on the
 *      features standardised with the pooled mean and std, L2 penalty DEV_L2, DEV_ITERATIONS steps of
 *      full-batch gradient descent at rate DEV_RATE from zero weights (deterministic);
 *   2. density ratio of each source validation image i: w_i = (n_s / n_t) p(t | f_i) / p(s | f_i);
 *   3. weighted losses L_i = w_i l_i (l_i: its cross-entropy), the control variate
 *      eta = -Cov(L, w) / Var(w), and the risk R = mean(L) + eta mean(w) - eta.
 *
 * The score is -R (higher is better, as for every validator). Checked against a NumPy
 * implementation (test/fixtures/make_loss_fixtures.py, `dev-*` cases).
 */
import type { Validator } from './validator.js';

export const DEV_L2 = 1e-3;
export const DEV_ITERATIONS = 300;
export const DEV_RATE = 0.5;

export interface DevInputs {
  /** Features of the source validation sample, [ns, d] row-major, and each image's cross-entropy. */
  source: ArrayLike<number>;
  sourceLoss: ArrayLike<number>;
  /** Features of the unlabelled target sample, [nt, d]. */
  target: ArrayLike<number>;
  d: number;
}

/** p(target | f) for the source rows, from a logistic regression fitted on both samples. */
export function domainProbabilities(input: DevInputs): Float64Array {
  const { d } = input;
  const ns = input.sourceLoss.length;
  const nt = input.target.length / d;
  if (!(d >= 1) || !Number.isInteger(nt)) throw new Error(`dev: ${input.target.length} target feature values do not make rows of ${d}`);
  const n = ns + nt;
  const row = (i: number, j: number) => (i < ns ? input.source[i * d + j]! : input.target[(i - ns) * d + j]!);
  // Pooled standardisation (a feature with no spread is left at 0).
  const mean = new Float64Array(d);
  const std = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += row(i, j) / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) std[j]! += (row(i, j) - mean[j]!) ** 2 / n;
  for (let j = 0; j < d; j++) std[j] = std[j]! > 1e-12 ? Math.sqrt(std[j]!) : 1;
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = (row(i, j) - mean[j]!) / std[j]!;
  const w = new Float64Array(d);
  let b = 0;
  const p = new Float64Array(n);
  const gw = new Float64Array(d);
  for (let it = 0; it < DEV_ITERATIONS; it++) {
    gw.fill(0);
    let gb = 0;
    for (let i = 0; i < n; i++) {
      let z = b;
      for (let j = 0; j < d; j++) z += w[j]! * x[i * d + j]!;
      p[i] = 1 / (1 + Math.exp(-z));
      const r = p[i]! - (i < ns ? 0 : 1);
      for (let j = 0; j < d; j++) gw[j]! += (r * x[i * d + j]!) / n;
      gb += r / n;
    }
    for (let j = 0; j < d; j++) w[j]! -= DEV_RATE * (gw[j]! + DEV_L2 * w[j]!);
    b -= DEV_RATE * gb;
  }
  const out = new Float64Array(ns);
  for (let i = 0; i < ns; i++) {
    let z = b;
    for (let j = 0; j < d; j++) z += w[j]! * x[i * d + j]!;
    out[i] = 1 / (1 + Math.exp(-z));
  }
  return out;
}

/**
 * The DEV risk estimate (lower is better); NaN when it cannot be estimated: fewer than 2 source
 * validation images, no target image or no feature (a tiny dataset's empty validation split).
 */
export function devRisk(input: DevInputs): number {
  const ns = input.sourceLoss.length;
  if (ns < 2 || !(input.d >= 1) || input.target.length < input.d || input.source.length !== ns * input.d) return NaN;
  const nt = input.target.length / input.d;
  const pt = domainProbabilities(input);
  const w = Float64Array.from(pt, (p) => (ns / nt) * (Math.min(Math.max(p, 1e-6), 1 - 1e-6) / (1 - Math.min(Math.max(p, 1e-6), 1 - 1e-6))));
  const L = Float64Array.from(w, (wi, i) => wi * input.sourceLoss[i]!);
  const mean = (a: Float64Array) => a.reduce((s, v) => s + v, 0) / a.length;
  const mw = mean(w);
  const mL = mean(L);
  // Sample covariance and variance (ddof 1), as the authors' code (np.cov).
  let cov = 0;
  let varW = 0;
  for (let i = 0; i < ns; i++) {
    cov += (L[i]! - mL) * (w[i]! - mw);
    varW += (w[i]! - mw) ** 2;
  }
  cov /= ns - 1;
  varW /= ns - 1;
  const eta = varW > 0 ? -cov / varW : 0;
  return mL + eta * mw - eta;
}

export const devValidator: Validator = {
  name: 'dev',
  description: 'deep embedded validation: importance-weighted source validation loss (You et al. 2019)',
  readsTargetLabels: false,
  logged: true,
  needsFeatures: true,
  score: (inputs) => {
    if (inputs.features == null) throw new Error('dev: the loop supplied no features');
    return -devRisk(inputs.features);
  },
};
