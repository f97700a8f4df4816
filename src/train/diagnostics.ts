/**
 * What the report needs to draw a run without re-running it: encoder features of a fixed sample
 * of source and target test images, and the source-target distance (MMD) at each named layer,
 * taken at the start and at the end of training.
 */
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { toFloats, type ImageSet } from '../data/types.js';
import { layerOutputModel, type Backbone } from '../models/backbones.js';
import { mmd } from '../losses/mmd.js';

export interface FeatureSnapshot {
  layer: string;
  source: { labels: number[]; features: number[][] };
  target: { labels: number[]; features: number[][] };
}

/**
 * `count` images drawn from the set with a fixed seed: the same ones in every run of the same
 * data (a fixed stride would alias with sets whose labels cycle, like synth-digits' i % 10).
 * x ([n, H, W, C] in [0, 1]) is owned by the caller.
 */
export function fixedSample(set: ImageSet, count: number): { x: tf.Tensor4D; labels: number[] } {
  const n = Math.min(count, set.count);
  const size = set.height * set.width * set.channels;
  const data = new Float32Array(n * size);
  const labels: number[] = [];
  const rng = seedrandom('dalab/fixed-sample');
  const order = Array.from({ length: set.count }, (_, i) => i);
  for (let i = 0; i < n; i++) {
    const k = i + Math.floor(rng() * (order.length - i));
    [order[i], order[k]] = [order[k]!, order[i]!];
  }
  for (let i = 0; i < n; i++) {
    const j = order[i]!;
    toFloats(set, j, 1, data, i * size);
    labels.push(set.labels[j]!);
  }
  return { x: tf.tensor4d(data, [n, set.height, set.width, set.channels]), labels };
}

const DIAGNOSTIC_CHUNK = 50;

export async function diagnostics(backbone: Backbone, source: ImageSet, target: ImageSet, count = 200): Promise<{ snapshot: FeatureSnapshot; distances: Record<string, number> }> {
  const s = fixedSample(source, count);
  const t = fixedSample(target, count);
  // Only the backbone's diagnostic layers (a handful), the feature layer among them.
  const layers = backbone.diagnosticLayers.includes(backbone.featureLayer) ? backbone.diagnosticLayers : [...backbone.diagnosticLayers, backbone.featureLayer];
  const model = layerOutputModel(backbone.encoder, layers);
  // In chunks of 50 images (a wide backbone's early maps for 200 images at once are large).
  const outputs = (x: tf.Tensor4D): tf.Tensor2D[] => {
    const parts: tf.Tensor2D[][] = [];
    for (let i = 0; i < x.shape[0]; i += DIAGNOSTIC_CHUNK) {
      const chunk = x.slice([i, 0, 0, 0], [Math.min(DIAGNOSTIC_CHUNK, x.shape[0] - i), -1, -1, -1]);
      const out = model.predict(chunk) as tf.Tensor2D[] | tf.Tensor2D;
      parts.push(Array.isArray(out) ? out : [out]);
    }
    return layers.map((_, k) => (parts.length === 1 ? parts[0]![k]! : tf.concat(parts.map((p) => p[k]!), 0)));
  };
  const { distanceTensors, sourceFeatures, targetFeatures } = tf.tidy(() => {
    const sl = outputs(s.x);
    const tl = outputs(t.x);
    const feature = layers.indexOf(backbone.featureLayer);
    return { distanceTensors: sl.map((x, i) => mmd(x, tl[i]!)), sourceFeatures: sl[feature]!, targetFeatures: tl[feature]! };
  });
  const features = [sourceFeatures, targetFeatures];
  const distances: Record<string, number> = {};
  for (const [i, d] of distanceTensors.entries()) distances[layers[i]!] = (await d.data())[0]!;
  const snapshot: FeatureSnapshot = {
    layer: backbone.featureLayer,
    source: { labels: s.labels, features: (await features[0].array()) as number[][] },
    target: { labels: t.labels, features: (await features[1].array()) as number[][] },
  };
  tf.dispose([...distanceTensors, ...features, s.x, t.x]);
  return { snapshot, distances };
}
