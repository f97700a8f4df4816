/** The figure kinds of a report, one registration line each, in the order index.html shows them. */
import { FigureRegistry } from './registry.js';
import { pairedDifference } from './paired_difference.js';
import { publishedVsMeasured } from './published_vs_measured.js';
import { comparison } from './comparison.js';
import { learningCurves } from './learning_curves.js';
import { labelBudget } from './label_budget.js';
import { freezeDepth } from './freeze_depth.js';
import { embedding } from './embedding.js';
import { domainDistance } from './domain_distance.js';
import { confusionMatrix } from './confusion_matrix.js';
import { gradientFlow, skipTrainingLoss } from './gradient_flow.js';

export const FIGURE_KINDS = new FigureRegistry()
  .register(publishedVsMeasured)
  .register(pairedDifference)
  .register(comparison)
  .register(learningCurves)
  .register(labelBudget)
  .register(freezeDepth)
  .register(embedding)
  .register(domainDistance)
  .register(confusionMatrix)
  .register(gradientFlow)
  .register(skipTrainingLoss);
