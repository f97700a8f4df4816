/** `oracle`: accuracy on the labelled target validation split; a reference, never an honest selection. */
import type { Validator } from './validator.js';

export const oracleValidator: Validator = {
  name: 'oracle',
  description: 'accuracy on the labelled target validation split (reads target labels: reference only)',
  readsTargetLabels: true,
  // Logged already as target_val_acc.
  logged: false,
  score: ({ targetVal }) => targetVal.accuracy,
};
