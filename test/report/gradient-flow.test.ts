/**
 * The gradient-flow figures (src/report/figures/gradient_flow.ts) on runs in memory: lines per
 * option set with blocks in depth order, panels per regime, an underflowed norm drawn at the
 * floor, the residual/plain pairs found only where skip is the sole difference; both specs render.
 */
import test from 'ava';
import { gatherFlow, gatherSkipLoss, gradientFlow, skipTrainingLoss, NORM_FLOOR } from '../../src/report/figures/gradient_flow.js';
import type { ReportRun } from '../../src/report/runs.js';
import type { ReportContext } from '../../src/report/context.js';
import { toSvg } from '../../src/report/render.js';

function run(id: string, backbone: Record<string, string>, norms: Record<string, number> | null, loss: number[] = []): ReportRun {
  const params: Record<string, string> = { 'adapter.name': 'source', 'train.seed': '0' };
  for (const [k, v] of Object.entries(backbone)) params[`model.backbone.${k}`] = v;
  const file = norms == null ? null : JSON.stringify({ blocks: Object.keys(norms), steps: [{ step: 0, norms }, { step: 10, norms: Object.fromEntries(Object.keys(norms).map((k) => [k, 9])) }] });
  return {
    runId: id, experiment: 'e', runName: id, status: 'FINISHED', startTime: 0, params, tags: {}, latest: {},
    history: async (key) => (key === 'loss/total' ? loss.map((value, i) => ({ step: (i + 1) * 10, value, timestamp: 0 })) : []),
    artifact: async (p) => (p === 'gradient_norms.json' ? file : null),
  };
}

const runs = [
  run('a', { name: 'resnet', depth: '56', skip: 'true', activation: 'sigmoid', norm: 'none' }, { stem: 0.05, 'layer1.0': 0.2, head: 1.3 }, [2.3, 2.0, 1.5]),
  run('b', { name: 'resnet', depth: '56', skip: 'false', activation: 'sigmoid', norm: 'none' }, { stem: 0, 'layer1.0': 1e-20, head: 1.1 }, [2.3, 2.3, 2.3]),
  run('c', { name: 'resnet', depth: '20', skip: 'true' }, { stem: 0.5, 'layer1.0': 0.4, head: 1.2 }, [2.3, 1.0]),
  run('d', { name: 'densenet' }, null),
];

test('gradient_flow: one line per option set, blocks in depth order, panels by regime, zeros at the floor', async (t) => {
  const rows = await gatherFlow(runs);
  t.is(rows.length, 9);
  // Lines are named by what varies within their panel.
  t.deepEqual(new Set(rows.map((r) => r.line)), new Set(['skip true', 'skip false', 'resnet']));
  const b = rows.filter((r) => r.line === 'skip false');
  t.deepEqual(b.map((r) => [r.block, r.depth]), [['stem', 1], ['layer1.0', 2], ['head', 3]]);
  t.deepEqual(new Set(rows.map((r) => r.panel)), new Set(['resnet · activation sigmoid · norm none', 'resnet']));
  t.true(b[0]!.zero);
  t.is(b[0]!.norm, NORM_FLOOR);
  t.false(b[1]!.zero);
  // The norms at step 0, not the later ones.
  t.is(rows.find((r) => r.panel === 'resnet' && r.block === 'stem')!.norm, 0.5);
});

test('skip_training_loss: only runs that differ in skip alone are paired', async (t) => {
  const rows = await gatherSkipLoss(runs);
  t.deepEqual([...new Set(rows.map((r) => r.panel))], ['resnet · activation sigmoid · depth 56 · norm none']);
  t.deepEqual(rows.filter((r) => r.skip.startsWith('plain')).map((r) => r.loss), [2.3, 2.3, 2.3]);
  t.is(await gatherSkipLoss(runs.slice(2)).then((r) => r.length), 0);
});

test('both figures render to SVG', async (t) => {
  const context = { column: 'double', runs, say: () => {} } as unknown as ReportContext;
  for (const kind of [gradientFlow, skipTrainingLoss] as const) {
    const gathered = await kind.gather(context);
    if (!('data' in gathered)) return t.fail(`${kind.name} not drawn`);
    const svg = await toSvg((kind.build as (d: unknown, c: ReportContext) => { spec: Parameters<typeof toSvg>[0] })(gathered.data, context).spec);
    t.true(svg.startsWith('<svg') && svg.length > 2000, kind.name);
  }
});
