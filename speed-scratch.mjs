import * as tf from '@tensorflow/tfjs';
import { selectBackend } from './dist/src/backend/backends.js';
import { digitnet } from './dist/src/models/backbones.js';
const be = process.argv[2] ?? 'wasm';
await selectBackend(be);
const b = digitnet.build({ input: [28,28,1], numClasses: 10, seed: 1 });
const opt = tf.train.adam(1e-3);
const x = tf.randomUniform([64,28,28,1]); const y = tf.oneHot(tf.randomUniform([64],0,10,'int32'),10);
function step(){ return opt.minimize(() => tf.losses.softmaxCrossEntropy(y, b.classifier.apply(b.encoder.apply(x)) ), true); }
for (let i=0;i<3;i++) step().dispose();
const n = be==='cpu'?3:20; const t=Date.now();
for (let i=0;i<n;i++) { const l = step(); if (i===n-1) l.dataSync(); l.dispose(); }
const dt=(Date.now()-t)/1000; console.log(be, 'steps/s', (n/dt).toFixed(2), 'img/s', (64*n/dt).toFixed(0), tf.memory().numTensors);
