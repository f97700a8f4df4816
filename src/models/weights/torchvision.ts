/**
 * torchvision's state dicts onto dalab's backbones. dalab's torchvision configurations name their
 * layers by torchvision's parameter prefixes (`layer1.0.conv1`, `features.denseblock1.denselayer1.
 * norm1`, ...), so the mapping is by name, with the layout changes between the frameworks:
 *   Conv2d weight [out, in, kh, kw]              -> kernel [kh, kw, in, out]
 *   depthwise Conv2d weight [c·m, 1, kh, kw]     -> depthwise_kernel [kh, kw, c, m]
 *   Linear weight [out, in]                      -> kernel [in, out]; after a Flatten of an
 *     h x w x c map, torch's (c, h, w) order of the inputs becomes tfjs's (h, w, c)
 *   BatchNorm weight / bias / running_mean / running_var -> gamma / beta / moving_mean / moving_variance
 * The checkpoint's last Linear layer is the head (`fc`, `classifier`, `classifier.6`, ...): it
 * gives the class count and lands on dalab's `logits`. `num_batches_tracked` is not needed.
 * Everything that does not fit is reported by name, all at once.
 */
import { SeededDropout } from '../builder.js';
import * as tf from '@tensorflow/tfjs';
import type { Backbone } from '../backbones.js';
import { WeightsFileError, type NamedTensor } from './tensors.js';

/** torchvision's networks as dalab backbones and options (what `--backbone resnet18` means). */
export const TORCHVISION_MODELS: Record<string, { backbone: string; options: Record<string, unknown> }> = {
  resnet18: { backbone: 'resnet', options: { depth: 18, width: 1 } },
  resnet34: { backbone: 'resnet', options: { depth: 34, width: 1 } },
  resnet50: { backbone: 'resnet', options: { depth: 50, width: 1 } },
  resnet101: { backbone: 'resnet', options: { depth: 101, width: 1 } },
  resnet152: { backbone: 'resnet', options: { depth: 152, width: 1 } },
  vgg11: { backbone: 'vgg', options: { variant: 'torchvision', depth: 11, norm: 'none' } },
  vgg13: { backbone: 'vgg', options: { variant: 'torchvision', depth: 13, norm: 'none' } },
  vgg16: { backbone: 'vgg', options: { variant: 'torchvision', depth: 16, norm: 'none' } },
  vgg19: { backbone: 'vgg', options: { variant: 'torchvision', depth: 19, norm: 'none' } },
  vgg16_bn: { backbone: 'vgg', options: { variant: 'torchvision', depth: 16, norm: 'batch' } },
  alexnet: { backbone: 'alexnet', options: { variant: 'torchvision' } },
  densenet121: { backbone: 'densenet', options: { depth: 121 } },
  densenet161: { backbone: 'densenet', options: { depth: 161 } },
  densenet169: { backbone: 'densenet', options: { depth: 169 } },
  densenet201: { backbone: 'densenet', options: { depth: 201 } },
  mobilenet_v2: { backbone: 'mobilenet', options: { variant: 'torchvision' } },
  googlenet: { backbone: 'inception', options: { variant: 'torchvision', aux: false } },
};

/**
 * torchvision's official ImageNet checkpoints that `dalab weights download` fetches (file names as
 * torchvision 0.14 lists them, each carrying the first hex digits of its SHA-256). alexnet,
 * vgg16, densenet121 (with the older key names), mobilenet_v2 and googlenet predate torch 1.6's
 * zip format: the legacy reader reads them.
 */
export const TORCHVISION_DOWNLOADS: Record<string, string> = {
  resnet18: 'resnet18-f37072fd.pth',
  resnet34: 'resnet34-b627a593.pth',
  resnet50: 'resnet50-0676ba61.pth',
  alexnet: 'alexnet-owt-7be5be79.pth',
  vgg16: 'vgg16-397923af.pth',
  densenet121: 'densenet121-a639ec97.pth',
  mobilenet_v2: 'mobilenet_v2-b0353104.pth',
  googlenet: 'googlenet-1378be20.pth',
};

export const TORCHVISION_URL = 'https://download.pytorch.org/models';

/** The SHA-256 prefix torchvision puts in a file name (`-<hex>.`), as torch.hub checks it. */
export function hashPrefix(file: string): string | null {
  return /-([a-f0-9]{6,})\./.exec(file)?.[1] ?? null;
}

/** The options that make a dalab family torchvision's network (`--backbone resnet --set depth=50`). */
export const TORCHVISION_FAMILY: Record<string, Record<string, unknown>> = {
  resnet: { depth: 18, width: 1 },
  vgg: { variant: 'torchvision', depth: 16, norm: 'none' },
  alexnet: { variant: 'torchvision' },
  densenet: { depth: 121 },
  mobilenet: { variant: 'torchvision' },
  inception: { variant: 'torchvision', aux: false },
};

/**
 * torchvision's renaming for its older DenseNet files (`_load_state_dict`): `denselayerN.norm.1`
 * was written before module names lost their dots, today `denselayerN.norm1`.
 */
export function renameLegacyDenseNet(name: string): string {
  return name.replace(/^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$/, '$1$2');
}

/** The prefix of the checkpoint's last Linear layer (a 2-D `.weight`), the head. */
export function headPrefix(tensors: readonly NamedTensor[]): string | null {
  for (let i = tensors.length - 1; i >= 0; i--) {
    const t = tensors[i]!;
    if (t.name.endsWith('.weight') && t.shape.length === 2) return t.name.slice(0, -'.weight'.length);
  }
  return null;
}

/** The class count a checkpoint's head gives. */
export function checkpointClasses(tensors: readonly NamedTensor[], file: string): number {
  const head = headPrefix(tensors);
  if (head == null) throw new WeightsFileError(file, 'no Linear layer (a 2-D .weight) to take the class count from');
  return tensors.find((t) => t.name === `${head}.weight`)!.shape[0]!;
}

/** (Not in tf.tidy: tidy walks a returned typed array element by element.) */
function transpose(data: Float32Array, shape: readonly number[], perm: readonly number[]): Float32Array {
  const t = tf.tensor(data, [...shape]);
  const p = tf.transpose(t, [...perm]);
  const out = p.dataSync() as Float32Array;
  t.dispose();
  p.dispose();
  return out;
}

/** The spatial shape [h, w, c] flattened into a Dense layer's input, when it follows a Flatten of a map. */
function flattenedMap(layer: tf.layers.Layer): [number, number, number] | null {
  const before = (l: tf.layers.Layer) => (l as unknown as { inboundNodes: { inboundLayers: tf.layers.Layer[] }[] }).inboundNodes[0]?.inboundLayers[0];
  let inbound = before(layer);
  // Through element-wise layers (AlexNet: Flatten -> Dropout -> Linear).
  while (inbound != null && ['Dropout', SeededDropout.className, 'Activation'].includes(inbound.getClassName())) inbound = before(inbound);
  if (inbound == null || inbound.getClassName() !== 'Flatten') return null;
  const shape = (inbound.input as tf.SymbolicTensor).shape as number[];
  return shape.length === 4 && shape[1]! * shape[2]! > 1 ? [shape[1]!, shape[2]!, shape[3]!] : null;
}

/** tfjs weight names -> torchvision's parameter suffixes. */
const TORCH_SUFFIX: Record<string, string> = { kernel: 'weight', depthwise_kernel: 'weight', bias: 'bias', gamma: 'weight', beta: 'bias', moving_mean: 'running_mean', moving_variance: 'running_var' };

export interface ImportReport {
  assigned: number;
  ignored: string[];
}

/**
 * Assigns a torchvision state dict to a backbone built at the checkpoint's class count; throws
 * one WeightsFileError naming every missing, unused or misshapen tensor.
 */
export function assignTorchvisionWeights(backbone: Backbone, state: readonly NamedTensor[], file: string): ImportReport {
  const renamed = state.map((t) => ({ ...t, name: renameLegacyDenseNet(t.name) }));
  const head = headPrefix(renamed);
  const byName = new Map(renamed.map((t) => [t.name, t]));
  const used = new Set<string>();
  const missing: string[] = [];
  const misshapen: string[] = [];
  const pending: [tf.layers.Layer, tf.Tensor[]][] = [];
  const layers = [...backbone.encoder.layers, ...backbone.classifier.layers];
  for (const layer of layers) {
    if (layer.weights.length === 0) continue;
    const prefix = layer.name === 'logits' && head != null ? head : layer.name;
    const cls = layer.getClassName();
    const values: tf.Tensor[] = [];
    for (const w of layer.weights) {
      const suffix = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
      const key = `${prefix}.${TORCH_SUFFIX[suffix] ?? suffix}`;
      const t = byName.get(key);
      if (t == null) {
        missing.push(key);
        continue;
      }
      used.add(key);
      const want = w.shape as number[];
      let data = t.data;
      let shape = [...t.shape];
      if (suffix === 'kernel' && cls === 'Conv2D' && shape.length === 4) {
        data = transpose(data, shape, [2, 3, 1, 0]);
        shape = [shape[2]!, shape[3]!, shape[1]!, shape[0]!];
      } else if (suffix === 'depthwise_kernel' && shape.length === 4 && shape[1] === 1) {
        const [c, m] = [want[2]!, want[3]!];
        if (shape[0] === c * m) {
          data = transpose(data, [c, m, shape[2]!, shape[3]!], [2, 3, 0, 1]);
          shape = [shape[2]!, shape[3]!, c, m];
        }
      } else if (suffix === 'kernel' && cls === 'Dense' && shape.length === 2) {
        const map = flattenedMap(layer);
        const [out, inputs] = shape as [number, number];
        if (map != null && inputs === map[0] * map[1] * map[2]) {
          // [out, c, h, w] -> [h, w, c, out]
          data = transpose(data, [out, map[2], map[0], map[1]], [2, 3, 1, 0]);
        } else data = transpose(data, shape, [1, 0]);
        shape = [inputs, out];
      }
      if (shape.length !== want.length || shape.some((d, i) => d !== want[i])) {
        misshapen.push(`${key} [${t.shape.join(', ')}] does not fit ${layer.name} ${suffix} [${want.join(', ')}]`);
        continue;
      }
      values.push(tf.tensor(data, want));
    }
    if (values.length === layer.weights.length) pending.push([layer, values]);
    else values.forEach((v) => v.dispose());
  }
  const ignored = renamed.filter((t) => !used.has(t.name) && t.name.endsWith('num_batches_tracked')).map((t) => t.name);
  const unused = renamed.filter((t) => !used.has(t.name) && !t.name.endsWith('num_batches_tracked')).map((t) => t.name);
  const problems = [
    ...(misshapen.length > 0 ? [`shape mismatch: ${misshapen.join('; ')}`] : []),
    ...(missing.length > 0 ? [`missing for ${backbone.name}: ${missing.join(', ')}`] : []),
    ...(unused.length > 0 ? [`unused (no such layer in ${backbone.name}): ${unused.join(', ')}`] : []),
  ];
  if (problems.length > 0) {
    pending.forEach(([, vs]) => vs.forEach((v) => v.dispose()));
    throw new WeightsFileError(file, problems.join(' | '));
  }
  let assigned = 0;
  for (const [layer, values] of pending) {
    layer.setWeights(values);
    assigned += values.length;
    values.forEach((v) => v.dispose());
  }
  return { assigned, ignored };
}

/** The name torchvision gives each family's head (the Linear layer dalab calls `logits`). */
export const TORCHVISION_HEAD: Record<string, string> = {
  resnet: 'fc',
  vgg: 'classifier.6',
  alexnet: 'classifier.6',
  densenet: 'classifier',
  mobilenet: 'classifier.1',
  inception: 'fc',
};

/**
 * The inverse of assignTorchvisionWeights: a backbone built in one of torchvision's configurations
 * as a torchvision state dict (float32; torchvision's names and layouts, the head last, a zero
 * `num_batches_tracked` beside each batch norm so that PyTorch's strict `load_state_dict` takes it).
 * Importing the result gives back the same weights, bit for bit.
 */
export function exportTorchvisionWeights(backbone: Backbone, family: string): NamedTensor[] {
  const head = TORCHVISION_HEAD[family];
  if (head == null) throw new WeightsFileError(family, `no torchvision network for this family (exportable: ${Object.keys(TORCHVISION_HEAD).join(', ')})`);
  const out: NamedTensor[] = [];
  for (const layer of [...backbone.encoder.layers, ...backbone.classifier.layers]) {
    if (layer.weights.length === 0) continue;
    const prefix = layer.name === 'logits' ? head : layer.name;
    const cls = layer.getClassName();
    // getWeights() hands out the variables' own tensors: read, never disposed here.
    const values = layer.getWeights();
    layer.weights.forEach((w, i) => {
      const suffix = w.originalName.slice(w.originalName.lastIndexOf('/') + 1);
      const value = values[i]!;
      let data = value.dataSync() as Float32Array;
      let shape = [...value.shape];
      if (suffix === 'kernel' && cls === 'Conv2D') {
        // [kh, kw, in, out] -> [out, in, kh, kw]
        data = transpose(data, shape, [3, 2, 0, 1]);
        shape = [shape[3]!, shape[2]!, shape[0]!, shape[1]!];
      } else if (suffix === 'depthwise_kernel') {
        // [kh, kw, c, m] -> [c·m, 1, kh, kw]
        data = transpose(data, shape, [2, 3, 0, 1]);
        shape = [shape[2]! * shape[3]!, 1, shape[0]!, shape[1]!];
      } else if (suffix === 'kernel' && cls === 'Dense') {
        const [inputs, units] = shape as [number, number];
        const map = flattenedMap(layer);
        if (map != null && inputs === map[0] * map[1] * map[2]) {
          // [h, w, c, out] -> [out, c, h, w]
          data = transpose(data, [map[0], map[1], map[2], units], [3, 2, 0, 1]);
        } else data = transpose(data, shape, [1, 0]);
        shape = [units, inputs];
      }
      out.push({ name: `${prefix}.${TORCH_SUFFIX[suffix] ?? suffix}`, dtype: 'F32', shape, data: Float32Array.from(data) });
    });
    if (cls === 'BatchNormalization') out.push({ name: `${prefix}.num_batches_tracked`, dtype: 'I64', shape: [], data: new Float32Array(1) });
  }
  // The head last: readers take the class count from the last Linear layer.
  const last = out.filter((t) => t.name.startsWith(`${head}.`));
  return [...out.filter((t) => !t.name.startsWith(`${head}.`)), ...last];
}
