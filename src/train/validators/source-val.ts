/** `source-val`: accuracy on the labelled source validation split (the default; reads no target label). */
import type { Validator } from './validator.js';

export const sourceValValidator: Validator = {
  name: 'source-val',
  description: 'accuracy on the labelled source validation split',
  readsTargetLabels: false,
  logged: true,
  score: ({ sourceVal }) => sourceVal.accuracy,
};
