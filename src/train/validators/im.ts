/** `im`: information maximisation on unlabelled target images (scores.ts). */
import { imScore } from './scores.js';
import type { Validator } from './validator.js';

export const imValidator: Validator = {
  name: 'im',
  description: 'information maximisation: entropy of the mean prediction minus the mean entropy (SHOT)',
  readsTargetLabels: false,
  logged: true,
  score: ({ targetPool: { probs, n, k } }) => imScore(probs, n, k),
};
