/** Learning-rate schedules as a function of progress p = step / steps in [0, 1]. */
import type { TrainConfig } from '../config/schema.js';

export function learningRate(train: TrainConfig, step: number): number {
  const p = step / train.steps;
  switch (train.schedule) {
    case 'constant':
      return train.lr;
    case 'step': {
      const every = train.stepSize ?? Math.max(1, Math.floor(train.steps / 3));
      return train.lr * Math.pow(train.gamma, Math.floor(step / every));
    }
    case 'cosine':
      return 0.5 * train.lr * (1 + Math.cos(Math.PI * p));
    case 'dann':
      // Ganin & Lempitsky 2015: mu_p = mu_0 / (1 + alpha p)^beta, alpha = 10, beta = 0.75.
      return train.lr / Math.pow(1 + 10 * p, 0.75);
    case 'inv':
      // Caffe's "inv" policy, Transfer-Learning-Library's LambdaLR: lr (1 + gamma iter)^-power.
      return train.lr * Math.pow(1 + train.invGamma * step, -train.power);
  }
}
