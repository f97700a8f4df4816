/**
 * MobileNetV2 (Sandler et al. 2018): inverted residual blocks (1x1 expansion by `t`, 3x3 depthwise
 * convolution, 1x1 linear projection without activation, the skip when stride is 1 and the
 * channels stay), ReLU6, a `width` multiplier rounded to multiples of 8 as torchvision does.
 * `variant: torchvision` (224x224x3): conv3x3/2-32, the seven (t, c, n, s) stages
 * (1,16,1,1) (6,24,2,2) (6,32,3,2) (6,64,4,2) (6,96,3,1) (6,160,3,2) (6,320,1,1), conv1x1-1280,
 * global average pool, dropout 0.2, head; names are torchvision's (`features.0.0`,
 * `features.2.conv.1.0`, ...). `variant: digit` (the default): the same stages at width 0.75 with
 * a stride-1 stem (28 -> 28 -> 14 -> 7 -> 4 -> 2), the last convolution 1280 x width, no
 * dropout, and the last batch norm of each residual block starting at gamma 0 (each block starts
 * as the identity, as torchvision's `zero_init_residual` for ResNet): 17 thin blocks otherwise
 * learn too slowly in their first steps (Adam 1e-3, batch 16: steps 21-30 at 0.90x steps 1-10
 * with width 0.5; torchvision's mobilenet_v2 at width 0.5, 0.98x; this default, 0.75x).
 */
import * as tf from '@tensorflow/tfjs';
import { z } from 'zod';
import { defineBackbone, type Backbone, type BackboneArgs } from './backbones.js';
import { NetBuilder, activationSchema, layerName, makeDivisible } from './builder.js';

const SETTINGS: [number, number, number, number][] = [
  [1, 16, 1, 1],
  [6, 24, 2, 2],
  [6, 32, 3, 2],
  [6, 64, 4, 2],
  [6, 96, 3, 1],
  [6, 160, 3, 2],
  [6, 320, 1, 1],
];

export const mobilenetOptions = z
  .object({
    variant: z.enum(['digit', 'torchvision']).default('digit'),
    width: z.number().positive().optional(),
    dropout: z.number().min(0).max(0.95).optional(),
    activation: activationSchema.default('relu6'),
  })
  .strict();
export type MobilenetOptions = z.infer<typeof mobilenetOptions>;

export function buildMobilenet(args: BackboneArgs, options: MobilenetOptions): Backbone {
  const { input, seed } = args;
  const tv = options.variant === 'torchvision';
  const width = options.width ?? (tv ? 1 : 0.75);
  const b = new NetBuilder(seed, options.activation);
  const x = tf.input({ shape: input, name: 'image' });
  const convBnAct = (h: tf.SymbolicTensor, prefix: string, filters: number, kernel: number, stride: number, depthwise = false) =>
    b.act(b.norm(b.conv(h, `${prefix}.0`, { filters, kernel, stride, depthwise }), `${prefix}.1`), `${prefix}.2`);

  b.block('features.0');
  let h = convBnAct(x, 'features.0', makeDivisible(32 * width), 3, tv ? 2 : 1);
  const diagnostic = [layerName(h)];
  let index = 1;
  SETTINGS.forEach(([t, c, n, s], stage) => {
    const out = makeDivisible(c * width);
    const stride = s;
    for (let i = 0; i < n; i++) {
      const prefix = `features.${index}`;
      b.block(prefix);
      const inChannels = h.shape[3] as number;
      const hidden = Math.round(inChannels * t);
      let y = h;
      let k = 0;
      if (t !== 1) y = convBnAct(y, `${prefix}.conv.${k++}`, hidden, 1, 1);
      y = convBnAct(y, `${prefix}.conv.${k++}`, hidden, 3, i === 0 ? stride : 1, true);
      const residual = (i === 0 ? stride : 1) === 1 && inChannels === out;
      y = b.norm(b.conv(y, `${prefix}.conv.${k}`, { filters: out, kernel: 1 }), `${prefix}.conv.${k + 1}`, { zeroGamma: residual && !tv });
      h = residual ? b.add(h, y, `${prefix}.add`) : y;
      index++;
    }
    if (stage % 2 === 1 || stage === SETTINGS.length - 1) diagnostic.push(layerName(h));
  });
  b.block(`features.${index}`);
  // torchvision never narrows the last convolution below 1280; the digit variant scales it.
  h = convBnAct(h, `features.${index}`, makeDivisible(1280 * (tv ? Math.max(1, width) : width)), 1, 1);
  let features = b.globalAvgPool(h, 'avgpool');
  features = b.dropout(features, 'classifier.0', options.dropout ?? (tv ? 0.2 : 0));
  diagnostic.push(layerName(features));
  return b.finish('mobilenet', x, features, diagnostic, args, (a) => buildMobilenet(a, options));
}

export const mobilenet = defineBackbone({
  name: 'mobilenet',
  description: 'MobileNetV2: inverted residuals, depthwise-separable convolutions, linear bottlenecks, ReLU6, width multiplier (default: width 0.75, digit-sized strides)',
  defaultInput: [28, 28, 1],
  options: mobilenetOptions,
  build: buildMobilenet,
});
