#!/usr/bin/env python3
"""The PyTorch peer of `dalab bench --peer torch`.

Reads one JSON object on stdin (written by src/app/peer.ts) describing the network dalab just
measured, builds the same network in PyTorch from it, trains it with the same strategy, batch,
optimiser and thread count, and prints one JSON line:
  {"imagesPerSecond": ..., "parameters": N, "device": "cpu" | "cuda:0 (NAME)", "torch": "1.13.0", "threads": T}

The network comes from the Keras-style topology tfjs writes for a Layers model (`model.toJSON()`):
every layer class dalab's backbones use (Conv2D with TensorFlow's 'same' padding, DepthwiseConv2D,
BatchNormalization, Dense, the pools, Add, Concatenate, Dropout, dalab's padding layers, LRN). It runs
in PyTorch's own layout (NCHW), as a PyTorch user would write it. Weights are PyTorch's default
initialisation: they do not change the cost of a step. The trainable parameter count is printed so
dalab can check that both sides built the same network.

Strategies (dalab's losses, the same terms): `source` (cross-entropy on the source batch, plus the
auxiliary heads' weighted cross-entropy when the backbone has them), `dann` (plus a 3-layer domain
discriminator of `hidden` units behind a gradient-reversal layer, on the encoder features of the
source and target batches), `mmd` (plus the biased multi-kernel MMD of the features, median-heuristic
bandwidths times 0.25, 0.5, 1, 2, 4).
"""
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def same_padding(size, kernel, stride, dilation):
    """TensorFlow's 'same' padding along one axis: (before, after); the extra pixel goes after."""
    out = math.ceil(size / stride)
    total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - size, 0)
    return total // 2, total - total // 2


ACTIVATIONS = {
    'linear': lambda x: x,
    None: lambda x: x,
    'relu': F.relu,
    'relu6': F.relu6,
    'sigmoid': torch.sigmoid,
    'tanh': torch.tanh,
    'softmax': lambda x: F.softmax(x, dim=1),
}


class Layer(nn.Module):
    """One Keras layer in NCHW; built from its config and the shape of its first input."""

    def __init__(self, cls, cfg, shapes):
        super().__init__()
        self.cls = cls
        self.cfg = cfg
        self.act = ACTIVATIONS[cfg.get('activation', 'linear')] if cls in ('Conv2D', 'DepthwiseConv2D', 'Dense', 'Activation') else None
        shape = shapes[0]
        if cls in ('Conv2D', 'DepthwiseConv2D'):
            c = shape[1]
            k = tuple(cfg['kernel_size'])
            self.stride = tuple(cfg['strides'])
            self.dilation = tuple(cfg.get('dilation_rate', [1, 1]))
            out = cfg['filters'] if cls == 'Conv2D' else c * cfg.get('depth_multiplier', 1)
            groups = 1 if cls == 'Conv2D' else c
            self.pad = None
            padding = 0
            if cfg['padding'] == 'same':
                ph = same_padding(shape[2], k[0], self.stride[0], self.dilation[0])
                pw = same_padding(shape[3], k[1], self.stride[1], self.dilation[1])
                if ph[0] == ph[1] and pw[0] == pw[1]:
                    padding = (ph[0], pw[0])
                else:
                    self.pad = (pw[0], pw[1], ph[0], ph[1])
            self.conv = nn.Conv2d(c, out, k, stride=self.stride, padding=padding, dilation=self.dilation, groups=groups, bias=cfg['use_bias'])
        elif cls == 'BatchNormalization':
            kind = nn.BatchNorm1d if len(shape) == 2 else nn.BatchNorm2d
            self.bn = kind(shape[1], eps=cfg['epsilon'], momentum=1 - cfg['momentum'], affine=cfg['center'] or cfg['scale'])
        elif cls == 'Dense':
            self.fc = nn.Linear(shape[1], cfg['units'], bias=cfg['use_bias'])
        elif cls == 'Dropout':
            self.drop = nn.Dropout(cfg['rate'])
        elif cls == 'DalabLocalResponseNorm':
            pass
        elif cls not in ('Activation', 'Flatten', 'MaxPooling2D', 'AveragePooling2D', 'GlobalAveragePooling2D', 'Add',
                         'Concatenate', 'DalabConstantPad2D', 'ZeroPadding2D', 'DalabChannelZeroPad'):
            raise ValueError(f'peer_torch: no PyTorch equivalent for layer class {cls}')
        if cls in ('MaxPooling2D', 'AveragePooling2D'):
            k, s = tuple(cfg['pool_size']), tuple(cfg['strides'] or cfg['pool_size'])
            self.pool = (k, s)
            self.pad = None
            if cfg['padding'] == 'same':
                ph = same_padding(shape[2], k[0], s[0], 1)
                pw = same_padding(shape[3], k[1], s[1], 1)
                self.pad = (pw[0], pw[1], ph[0], ph[1])
                if cls == 'AveragePooling2D' and any(self.pad):
                    raise ValueError("peer_torch: AveragePooling2D with padding 'same' that pads is not supported")

    def forward(self, xs):
        x = xs[0]
        cls = self.cls
        if cls in ('Conv2D', 'DepthwiseConv2D'):
            if self.pad is not None:
                x = F.pad(x, self.pad)
            return self.act(self.conv(x))
        if cls == 'BatchNormalization':
            return self.bn(x)
        if cls == 'Dense':
            return self.act(self.fc(x))
        if cls == 'Activation':
            return self.act(x)
        if cls == 'Dropout':
            return self.drop(x)
        if cls == 'Flatten':
            return torch.flatten(x, 1)
        if cls == 'MaxPooling2D':
            if self.pad is not None and any(self.pad):
                x = F.pad(x, self.pad, value=-math.inf)
            return F.max_pool2d(x, self.pool[0], self.pool[1])
        if cls == 'AveragePooling2D':
            return F.avg_pool2d(x, self.pool[0], self.pool[1])
        if cls == 'GlobalAveragePooling2D':
            return torch.mean(x, dim=(2, 3))
        if cls == 'Add':
            out = xs[0]
            for y in xs[1:]:
                out = out + y
            return out
        if cls == 'Concatenate':
            axis = self.cfg.get('axis', -1)
            return torch.cat(xs, dim=1 if axis in (-1, 3) else axis)
        if cls == 'DalabConstantPad2D':
            (top, bottom), (left, right) = self.cfg['padding']
            value = -math.inf if self.cfg['value'] == 'min' else float(self.cfg['value'])
            return F.pad(x, (left, right, top, bottom), value=value)
        if cls == 'ZeroPadding2D':
            (top, bottom), (left, right) = self.cfg['padding']
            return F.pad(x, (left, right, top, bottom))
        if cls == 'DalabChannelZeroPad':
            extra = self.cfg['channels'] - x.shape[1]
            return F.pad(x, (0, 0, 0, 0, 0, extra)) if extra > 0 else x
        if cls == 'DalabLocalResponseNorm':
            c = self.cfg
            return F.local_response_norm(x, c['size'], alpha=c['alpha'], beta=c['beta'], k=c['k'])
        raise AssertionError(cls)


class Graph(nn.Module):
    """A Keras functional model (tfjs `toJSON()` topology) as a PyTorch module, NCHW."""

    def __init__(self, topology, example):
        super().__init__()
        config = topology['config']
        self.order = []
        self.inputs = {}
        self.mods = nn.ModuleDict()
        values = {}
        for layer in config['layers']:
            name, cls = layer['name'], layer['class_name']
            if cls == 'InputLayer':
                self.inputs[name] = len(self.inputs)
                values[name] = example[self.inputs[name]]
                continue
            nodes = layer['inbound_nodes']
            if len(nodes) != 1:
                raise ValueError(f'peer_torch: layer {name} is applied {len(nodes)} times in this model')
            sources = [n[0] for n in nodes[0]]
            xs = [values[s] for s in sources]
            module = Layer(cls, layer['config'], [tuple(x.shape) for x in xs])
            key = name.replace('.', '_')
            self.mods[key] = module
            self.order.append((name, key, sources))
            with torch.no_grad():
                module.eval()
                values[name] = module(xs)
        self.outputs = [o[0] for o in config['output_layers']]

    def forward(self, *inputs):
        values = {}
        for name, index in self.inputs.items():
            values[name] = inputs[index]
        for name, key, sources in self.order:
            values[name] = self.mods[key]([values[s] for s in sources])
        outs = [values[o] for o in self.outputs]
        return outs if len(outs) > 1 else outs[0]


class ReverseGradient(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, coefficient):
        ctx.coefficient = coefficient
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad):
        return -ctx.coefficient * grad, None


def mmd_biased(source, target, multipliers=(0.25, 0.5, 1, 2, 4)):
    joint = torch.cat([source, target], 0)
    d = torch.cdist(joint, joint) ** 2
    n = joint.shape[0]
    iu = torch.triu_indices(n, n, 1)
    median = torch.median(d.detach()[iu[0], iu[1]]).clamp_min(1e-8)
    k = sum(torch.exp(-d / (m * median)) for m in multipliers) / len(multipliers)
    b = source.shape[0]
    return k[:b, :b].mean() + k[b:, b:].mean() - 2 * k[:b, b:].mean()


def main():
    spec = json.load(sys.stdin)
    threads = int(spec['threads'])
    torch.set_num_threads(threads)
    device = torch.device('cuda' if spec.get('device') == 'cuda' and torch.cuda.is_available() else 'cpu')
    h, w, c = spec['input']
    batch = int(spec['batchSize'])
    strategy = spec['strategy']
    torch.manual_seed(0)

    example = [torch.zeros(2, c, h, w)]
    encoder = Graph(spec['encoder'], example)
    with torch.no_grad():
        encoder.eval()
        out = encoder(*example)
    features = out[0] if isinstance(out, list) else out
    classifier = Graph(spec['classifier'], [features])
    aux_weight = float(spec.get('auxWeight', 0))
    modules = [encoder, classifier]
    discriminator = None
    if strategy == 'dann':
        hidden = int(spec['options'].get('hidden', 100))
        discriminator = nn.Sequential(nn.Linear(features.shape[1], hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, 1))
        modules.append(discriminator)
    elif strategy not in ('source', 'mmd'):
        raise ValueError(f'peer_torch: no PyTorch peer for strategy {strategy}')
    for m in modules:
        m.to(device).train()
    params = [p for m in modules for p in m.parameters()]
    counted = sum(p.numel() for m in (encoder, classifier) for p in m.parameters())
    optimiser = torch.optim.Adam(params, lr=float(spec['lr']))
    weight = float(spec['options'].get('weight', 1))

    g = torch.Generator().manual_seed(1)
    xs = torch.rand(batch, c, h, w, generator=g).to(device)
    xt = torch.rand(batch, c, h, w, generator=g).to(device)
    ys = (torch.arange(batch) % 10).to(device)
    domain = torch.cat([torch.ones(batch), torch.zeros(batch)]).to(device)
    images_per_step = batch if strategy == 'source' else 2 * batch

    def encode(x):
        out = encoder(x)
        return (out[0], out[1:]) if isinstance(out, list) else (out, [])

    def step(progress):
        optimiser.zero_grad(set_to_none=True)
        fs, aux = encode(xs)
        loss = F.cross_entropy(classifier(fs), ys)
        for logits in aux:
            loss = loss + aux_weight * F.cross_entropy(logits, ys)
        if strategy == 'dann':
            ft, _ = encode(xt)
            coefficient = 2 / (1 + math.exp(-10 * progress)) - 1
            d = discriminator(ReverseGradient.apply(torch.cat([fs, ft], 0), coefficient)).reshape(-1)
            loss = loss + weight * F.binary_cross_entropy_with_logits(d, domain)
        elif strategy == 'mmd':
            ft, _ = encode(xt)
            loss = loss + weight * mmd_biased(fs, ft)
        loss.backward()
        optimiser.step()
        return loss

    warmup, steps = int(spec['warmup']), int(spec['steps'])
    total = warmup + steps
    for s in range(1, warmup + 1):
        step(s / total)
    if device.type == 'cuda':
        torch.cuda.synchronize()
    loss = None
    started = time.perf_counter()
    for s in range(warmup + 1, total + 1):
        loss = step(s / total)
    float(loss)  # waits for the device, as dalab reads its last loss
    seconds = time.perf_counter() - started
    name = 'cpu' if device.type == 'cpu' else f'cuda:0 ({torch.cuda.get_device_name(0)})'
    print(json.dumps({'imagesPerSecond': steps * images_per_step / seconds, 'parameters': counted, 'device': name,
                      'torch': torch.__version__, 'threads': torch.get_num_threads()}))


if __name__ == '__main__':
    try:
        main()
    except Exception as error:  # one line for dalab to print
        print(json.dumps({'error': f'{type(error).__name__}: {error}'}))
        sys.exit(1)
