/**
 * `dalab weights import FILE --backbone NAME [--set opt=v]... --input H,W,C [--normalize M] --out DIR`,
 * `dalab predict MODEL --dataset NAME [--split test] --out FILE.npy`,
 * `dalab eval MODEL --dataset NAME [--split test] [--json]`,
 * `dalab weights export MODEL --out FILE.safetensors`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chooseBackend } from '../../app/backends.js';
import { parseInputShape } from '../../app/models.js';
import { WeightsService, downloadWeights, npyBytes, score } from '../../app/weights.js';
import { UserError } from '../../messages.js';
import { collect, printJson, type Cli } from '../context.js';

export function registerWeights(cli: Cli): void {
  const service = () => cli.container.get(WeightsService);
  const weights = cli.program.command('weights').description('import pretrained weights (torchvision .pth / .safetensors)');
  weights
    .command('import')
    .description("a torchvision state dict onto dalab's torchvision configuration of a backbone, written as a checkpoint folder for model.from")
    .argument('<file>', '.pth (torch.save, zip or legacy) or .safetensors file')
    .requiredOption('--backbone <name>', 'resnet18, resnet34, resnet50, vgg16, alexnet, densenet121, mobilenet_v2, googlenet, ... or a family (resnet, vgg, ...) with --set')
    .option('--set <opt=value>', "a backbone option as in model.backbone, e.g. --set depth=50 (repeatable)", collect, [])
    .requiredOption('--input <H,W,C>', 'the input shape the checkpoint is built for, e.g. 224,224,3')
    .option('--normalize <mode>', 'what model.normalize the weights expect: imagenet (torchvision), unit, symmetric, domain, instance', 'imagenet')
    .requiredOption('--out <dir>', 'checkpoint folder to write')
    .option('--json', 'one JSON line')
    .action(async (file: string, opts: { backbone: string; set: string[]; input: string; normalize: string; out: string; json?: boolean }) => {
      await chooseBackend(cli.backendFlag());
      const result = await service().importWeights({ file, backbone: opts.backbone, sets: opts.set, input: parseInputShape(opts.input), normalize: opts.normalize, out: opts.out });
      if (opts.json) return printJson(result);
      const { name, ...options } = result.backbone;
      process.stdout.write(`imported ${file} (${result.format}, ${result.tensors} tensors) as ${name} ${JSON.stringify(options)}, ${result.numClasses} classes, input ${opts.input}\n`);
      process.stdout.write(`wrote ${result.out} (model.from: ${result.out})\n`);
    });

  weights
    .command('export')
    .description("a checkpoint of one of torchvision's configurations (a run id or a checkpoint folder) as torchvision's state dict in a .safetensors file: PyTorch loads it, model.from and weights import read it back")
    .argument('<model>', 'a run id or a checkpoint folder whose backbone is a torchvision configuration (e.g. model.backbone: { name: resnet, depth: 18, width: 1 })')
    .requiredOption('--out <file.safetensors>', 'where to write')
    .option('--json', 'one JSON line')
    .action(async (model: string, opts: { out: string; json?: boolean }) => {
      await chooseBackend(cli.backendFlag());
      const result = await service().exportWeights(model, opts.out);
      if (opts.json) return printJson({ out: result.out, torchvision: result.torchvision, tensors: result.tensors, numClasses: result.numClasses, input: result.meta.input, normalize: result.meta.normalize });
      process.stdout.write(`exported ${model} as torchvision's ${result.torchvision} (${result.tensors} tensors, ${result.numClasses} classes, trained at ${result.meta.input.join(',')} with normalize ${result.meta.normalize}): ${result.out}\n`);
      process.stdout.write(`PyTorch: torchvision.models.${result.torchvision}(num_classes=${result.numClasses}).load_state_dict(safetensors.torch.load_file(...)); dalab: model.from: ${result.out}\n`);
    });

  weights
    .command('download')
    .description("fetch one of torchvision's ImageNet checkpoints (its SHA-256 prefix checked): $TORCH_HOME/hub/checkpoints first, then DALAB_WEIGHTS_MIRROR, then download.pytorch.org")
    .argument('<name>', 'resnet18, resnet34, resnet50, alexnet, vgg16, densenet121, mobilenet_v2, googlenet')
    .action(async (name: string) => {
      let last = 0;
      const result = await downloadWeights({
        name,
        onProgress: (received, total) => {
          if (Date.now() - last < 2000) return;
          last = Date.now();
          process.stderr.write(`  ${name}: ${(received / 1e6).toFixed(1)}${total != null ? ` / ${(total / 1e6).toFixed(1)}` : ''} MB\n`);
        },
      });
      process.stdout.write(`${result.fetched ? `fetched from ${result.from}, SHA-256 prefix ok` : `found in ${result.from}`}: ${result.file}\n`);
      process.stdout.write(`next: dalab weights import ${result.file} --backbone ${name} --input 224,224,3 --out weights/${name}\n`);
    });

  const common = (name: string, description: string) =>
    cli.program
      .command(name)
      .description(description)
      .argument('<model>', 'a run id, a checkpoint folder, or an imported checkpoint (dalab weights import)')
      .requiredOption('--dataset <name>', 'dataset to score (dalab data list)')
      .option('--split <split>', 'train, val or test', 'test');

  common('predict', 'write the logits of every image of a split, in order, as a float32 .npy array [N, K]')
    .requiredOption('--out <file.npy>', 'where to write the logits')
    .action(async (model: string, opts: { dataset: string; split: string; out: string }) => {
      if (!opts.out.endsWith('.npy')) throw new UserError(`--out ${opts.out}: expected a .npy file`);
      const backend = await chooseBackend(cli.backendFlag());
      const s = service();
      const { backbone, meta } = await s.loadModel(model);
      const set = s.split(opts.dataset, opts.split, meta);
      const { data, classes } = s.logits(backbone, set);
      const out = path.resolve(opts.out);
      fs.mkdirSync(path.dirname(out), { recursive: true });
      fs.writeFileSync(`${out}.partial`, npyBytes(data, [set.count, classes]));
      fs.renameSync(`${out}.partial`, out);
      process.stdout.write(`wrote ${out}: logits [${set.count}, ${classes}] of ${opts.dataset} ${opts.split} on ${backend}\n`);
    });

  common('eval', 'accuracy and per-class accuracy of a model on a split of a dataset')
    .option('--json', 'one JSON line: {"accuracy", "perClass": [...], "count"}')
    .action(async (model: string, opts: { dataset: string; split: string; json?: boolean }) => {
      const backend = await chooseBackend(cli.backendFlag());
      const s = service();
      const { backbone, meta } = await s.loadModel(model);
      const set = s.split(opts.dataset, opts.split, meta);
      const { data, classes } = s.logits(backbone, set);
      const scores = score(data, classes, set.labels);
      if (opts.json) return printJson(scores);
      process.stdout.write(`${opts.dataset} ${opts.split}: accuracy ${(100 * scores.accuracy).toFixed(2)}% of ${scores.count} images (${backend})\n`);
      process.stdout.write(`per class: ${scores.perClass.map((a, k) => `${k} ${a == null ? '-' : (100 * a).toFixed(1)}`).join('  ')}\n`);
    });
}
