/** `snd`: soft neighbourhood density of unlabelled target predictions (scores.ts). */
import { sndScore } from './scores.js';
import type { Validator } from './validator.js';

export const sndValidator: Validator = {
  name: 'snd',
  description: 'soft neighbourhood density of target predictions (Saito et al. 2021)',
  readsTargetLabels: false,
  logged: true,
  score: ({ targetPool: { probs, n, k } }) => sndScore(probs, n, k),
};
