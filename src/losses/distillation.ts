/**
 * Distillation loss (Hinton et al., "Distilling the Knowledge in a Neural Network", 2015), with
 * the confidence threshold of self-ensembling (French et al., ICLR 2018):
 *
 *   p_t = softmax(teacher / T), log q_s = log_softmax(student / T)
 *   m_b = 1 if max_k softmax(teacher_b) >= threshold (_b) else 0   (one threshold, or one per image [B])
 *   L = T^2 * sum_b m_b * (-sum_k p_t,bk log q_s,bk) / B
 *
 * The teacher is a constant (no gradient). studentLogits, teacherLogits: [B, K] -> scalar.
 */
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from './gradient.js';

export function distillationLoss(studentLogits: tf.Tensor2D, teacherLogits: tf.Tensor2D, temperature = 1, threshold: number | tf.Tensor1D = 0): tf.Scalar {
  return tf.tidy(() => {
    const teacher = stopGradient(teacherLogits);
    const soft = tf.softmax(tf.div(teacher, temperature));
    const logStudent = tf.logSoftmax(tf.div(studentLogits, temperature));
    const perSample = tf.neg(tf.sum(tf.mul(soft, logStudent), 1));
    const confident = tf.cast(tf.greaterEqual(tf.max(tf.softmax(teacher), 1), threshold), 'float32');
    const batch = studentLogits.shape[0];
    return tf.mul(tf.div(tf.sum(tf.mul(perSample, confident)), batch), temperature * temperature) as tf.Scalar;
  });
}

/**
 * Class balance (French et al., "Self-ensembling for visual domain adaptation", ICLR 2018, sec. 3.3;
 * the authors' `equalise_cls_loss`): the binary cross-entropy between each class's mean predicted
 * probability over the target batch and the uniform 1/K, summed over the classes, times the
 * fraction of confident images `maskFraction` (1 without confidence thresholding):
 *   pbar_k = mean_b softmax(student)_bk
 *   L = maskFraction * sum_k -[ (1/K) log pbar_k + (1 - 1/K) log(1 - pbar_k) ]
 * It keeps the student from collapsing onto a few classes. studentLogits: [B, K] -> scalar.
 */
export function classBalanceLoss(studentLogits: tf.Tensor2D, maskFraction: tf.Scalar | number = 1): tf.Scalar {
  return tf.tidy(() => {
    const k = studentLogits.shape[1];
    const mean = tf.clipByValue(tf.mean(tf.softmax(studentLogits), 0), 1e-7, 1 - 1e-7);
    const bce = tf.neg(tf.add(tf.mul(1 / k, tf.log(mean)), tf.mul(1 - 1 / k, tf.log(tf.sub(1, mean)))));
    return tf.mul(tf.sum(bce), typeof maskFraction === 'number' ? maskFraction : stopGradient(maskFraction)) as tf.Scalar;
  });
}
