/** `entropy`: minus the mean prediction entropy on unlabelled target images (scores.ts). */
import { entropyScore } from './scores.js';
import type { Validator } from './validator.js';

export const entropyValidator: Validator = {
  name: 'entropy',
  description: 'minus the mean prediction entropy on unlabelled target images (Morerio et al. 2018)',
  readsTargetLabels: false,
  logged: true,
  score: ({ targetPool: { probs, n, k } }) => entropyScore(probs, n, k),
};
