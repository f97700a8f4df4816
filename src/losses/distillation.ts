/**
 * Distillation loss (Hinton et al., "Distilling the Knowledge in a Neural Network", 2015), with
 * the confidence threshold of self-ensembling (French et al., ICLR 2018):
 *
 *   p_t = softmax(teacher / T), log q_s = log_softmax(student / T)
 *   m_b = 1 if max_k softmax(teacher_b) >= threshold else 0
 *   L = T^2 * sum_b m_b * (-sum_k p_t,bk log q_s,bk) / B
 *
 * The teacher is a constant (no gradient). studentLogits, teacherLogits: [B, K] -> scalar.
 */
import * as tf from '@tensorflow/tfjs';
import { stopGradient } from './gradient.js';

export function distillationLoss(studentLogits: tf.Tensor2D, teacherLogits: tf.Tensor2D, temperature = 1, threshold = 0): tf.Scalar {
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
