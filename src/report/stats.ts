/**
 * The statistics a report states: mean, sample standard deviation, Student-t 95% confidence
 * interval of a mean, and the two-sided paired t-test. Student's t distribution is evaluated
 * through the regularised incomplete beta function (continued fraction, modified Lentz), so no
 * statistics package is needed; values are checked against SciPy in test/report/stats.test.ts.
 */

export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((a, b) => a + b, 0) / values.length;
}

/** Sample standard deviation (n - 1); 0 for a single value. */
export function std(values: readonly number[]): number {
  if (values.length < 2) return values.length === 1 ? 0 : NaN;
  const m = mean(values);
  return Math.sqrt(values.reduce((a, b) => a + (b - m) ** 2, 0) / (values.length - 1));
}

const LANCZOS = [676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7];

/** ln Gamma(x) for x > 0 (Lanczos approximation, g = 7). */
export function lnGamma(x: number): number {
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lnGamma(1 - x);
  const z = x - 1;
  let a = 0.99999999999980993;
  const t = z + 7.5;
  for (let i = 0; i < LANCZOS.length; i++) a += LANCZOS[i]! / (z + i + 1);
  return 0.5 * Math.log(2 * Math.PI) + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Continued fraction of the incomplete beta function (modified Lentz's method). */
function betaFraction(a: number, b: number, x: number): number {
  const tiny = 1e-300;
  let c = 1;
  let d = 1 - ((a + b) * x) / (a + 1);
  if (Math.abs(d) < tiny) d = tiny;
  d = 1 / d;
  let h = d;
  for (let m = 1; m <= 300; m++) {
    const m2 = 2 * m;
    let num = (m * (b - m) * x) / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    h *= d * c;
    num = (-(a + m) * (a + b + m) * x) / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (Math.abs(d) < tiny) d = tiny;
    c = 1 + num / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-15) break;
  }
  return h;
}

/** Regularised incomplete beta function I_x(a, b). */
export function incompleteBeta(x: number, a: number, b: number): number {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const front = Math.exp(lnGamma(a + b) - lnGamma(a) - lnGamma(b) + a * Math.log(x) + b * Math.log(1 - x));
  // The fraction converges fast for x < (a + 1) / (a + b + 2); use the symmetry otherwise.
  if (x < (a + 1) / (a + b + 2)) return (front * betaFraction(a, b, x)) / a;
  return 1 - (front * betaFraction(b, a, 1 - x)) / b;
}

/** P(T <= t) for Student's t with df degrees of freedom. */
export function studentTCdf(t: number, df: number): number {
  // Two equivalent forms; each is accurate where its argument is not close to 1.
  const t2 = t * t;
  const tail = t2 < df ? 0.5 * (1 - incompleteBeta(t2 / (df + t2), 0.5, df / 2)) : 0.5 * incompleteBeta(df / (df + t2), df / 2, 0.5);
  return t >= 0 ? 1 - tail : tail;
}

/** The p-quantile of Student's t (bisection on the CDF; |error| < 1e-12). */
export function studentTQuantile(p: number, df: number): number {
  if (p <= 0 || p >= 1) throw new RangeError(`quantile of ${p}`);
  let lo = -1e3;
  let hi = 1e3;
  for (let i = 0; i < 200 && hi - lo > 1e-12; i++) {
    const mid = (lo + hi) / 2;
    if (studentTCdf(mid, df) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** Half-width of the two-sided 95% Student-t confidence interval of the mean (NaN below 2 values). */
export function ci95HalfWidth(values: readonly number[]): number {
  if (values.length < 2) return NaN;
  return (studentTQuantile(0.975, values.length - 1) * std(values)) / Math.sqrt(values.length);
}

export interface PairedTest {
  test: 'paired t-test (two-sided)';
  n: number;
  meanDiff: number;
  stdDiff: number;
  t: number;
  df: number;
  p: number;
}

/** Two-sided paired t-test of a - b (pairs by index). p is NaN below 2 pairs, 0 or 1 for zero variance. */
export function pairedTTest(a: readonly number[], b: readonly number[]): PairedTest {
  if (a.length !== b.length) throw new RangeError('paired samples differ in length');
  const diffs = a.map((x, i) => x - b[i]!);
  const n = diffs.length;
  const m = mean(diffs);
  const s = std(diffs);
  const df = n - 1;
  let t: number;
  let p: number;
  if (n < 2) {
    t = NaN;
    p = NaN;
  } else if (s === 0) {
    t = m === 0 ? 0 : Math.sign(m) * Infinity;
    p = m === 0 ? 1 : 0;
  } else {
    t = m / (s / Math.sqrt(n));
    p = Math.min(1, incompleteBeta(df / (df + t * t), df / 2, 0.5));
  }
  return { test: 'paired t-test (two-sided)', n, meanDiff: m, stdDiff: s, t, df, p };
}
