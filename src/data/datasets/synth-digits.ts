/** `synth-digits`: house-number-like digits rendered by dalab from bundled fonts (the sim-to-real source). */
import type { DatasetProvider } from '../dataset.js';
import { loadSynthDigits } from '../synth.js';

export const synthDigitsDataset: DatasetProvider = {
  name: 'synth-digits',
  kind: 'rendered',
  description: 'house-number-like digits rendered from bundled fonts (32x32 RGB, sim-to-real source)',
  check: () => undefined,
  load: () => loadSynthDigits(),
};
