/**
 * PyTorch checkpoints as `torch.save` writes them, read without Python:
 * - the zip format (torch >= 1.6): one top folder, whatever its name (torch.save names it after
 *   the file), holding `data.pkl` (the pickled object; tensors as persistent ids
 *   ('storage', torch.<T>Storage, key, location, numel)) and `data/<key>` (each storage's raw
 *   little-endian bytes);
 * - the legacy format (before 1.6; some of torchvision's older downloads): consecutive pickles
 *   (magic number, protocol version, system info, the object, the list of storage keys), then each
 *   storage as an 8-byte element count and its bytes, in the order of that list.
 * The unpickler allows only what a state dict needs: collections.OrderedDict,
 * torch._utils._rebuild_tensor_v2, torch._utils._rebuild_parameter and the torch.*Storage classes
 * (as persistent-id tags); any other global is refused by name.
 */
import { PyDict, PyGlobal, unpickle } from './pickle.js';
import { ELEMENT_BYTES, WeightsFileError, decodeElements, elementCount, type ElementType, type NamedTensor } from './tensors.js';
import { isZip, readZip } from './zip.js';

const STORAGES: Record<string, ElementType> = {
  FloatStorage: 'f32',
  HalfStorage: 'f16',
  BFloat16Storage: 'bf16',
  DoubleStorage: 'f64',
  LongStorage: 'i64',
  IntStorage: 'i32',
  ShortStorage: 'i16',
  CharStorage: 'i8',
  ByteStorage: 'u8',
  BoolStorage: 'bool',
};

const ALLOWED = new Set(['collections.OrderedDict', 'torch._utils._rebuild_tensor_v2', 'torch._utils._rebuild_parameter', ...Object.keys(STORAGES).map((s) => `torch.${s}`)]);

interface Storage {
  readonly key: string;
  readonly type: ElementType;
  readonly typeName: string;
  bytes?: Uint8Array;
}

class TensorRef {
  constructor(
    readonly storage: Storage,
    readonly offset: number,
    readonly size: number[],
    readonly stride: number[],
  ) {}
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

export interface TorchCheckpoint {
  tensors: NamedTensor[];
  /** Keys of the state dict that are not tensors (reported, never used). */
  other: string[];
  format: 'zip' | 'legacy';
}

export function readTorchCheckpoint(bytes: Uint8Array, file: string): TorchCheckpoint {
  const fail = (problem: string): never => {
    throw new WeightsFileError(file, problem);
  };
  const storages = new Map<string, Storage>();
  const call = (g: PyGlobal, args: unknown[]): unknown => {
    switch (g.qualified) {
      case 'collections.OrderedDict':
        return new PyDict();
      case 'torch._utils._rebuild_tensor_v2': {
        const [storage, offset, size, stride] = args as [Storage, number, number[], number[]];
        if (storage == null || typeof storage !== 'object' || !('key' in storage)) fail('damaged checkpoint: a tensor without a storage');
        return new TensorRef(storage, offset, size, stride);
      }
      case 'torch._utils._rebuild_parameter':
        return args[0];
      default:
        return fail(`the pickle calls ${g.qualified}; refused`);
    }
  };
  const persistentLoad = (pid: unknown): Storage => {
    if (!Array.isArray(pid) || pid[0] !== 'storage' || !(pid[1] instanceof PyGlobal)) fail(`unsupported persistent id ${JSON.stringify(pid)}`);
    const [, cls, key] = pid as [string, PyGlobal, string];
    const type = STORAGES[cls.name];
    if (cls.module !== 'torch' || type == null) fail(`storage class ${cls.qualified} is not supported`);
    const k = String(key);
    let s = storages.get(k);
    if (s == null) storages.set(k, (s = { key: k, type: type!, typeName: cls.name }));
    return s;
  };
  const options = { allowed: ALLOWED, call, persistentLoad };

  let root: unknown;
  let format: 'zip' | 'legacy';
  if (isZip(bytes)) {
    format = 'zip';
    const members = readZip(bytes, file);
    const pkl = members.filter((m) => /^[^/]+\/data\.pkl$/.test(m.name));
    if (pkl.length !== 1) fail(pkl.length === 0 ? 'a zip without <folder>/data.pkl: not a torch.save checkpoint' : 'more than one data.pkl in the zip');
    const folder = pkl[0]!.name.slice(0, -'/data.pkl'.length);
    const stray = members.find((m) => !m.name.startsWith(`${folder}/`));
    if (stray != null) fail(`zip member ${stray.name} lies outside the checkpoint's folder ${folder}/`);
    root = unpickle(pkl[0]!.read(), 0, options, file).value;
    const byName = new Map(members.map((m) => [m.name, m]));
    for (const s of storages.values()) {
      const member = byName.get(`${folder}/data/${s.key}`);
      if (member == null) fail(`storage ${s.key} (${folder}/data/${s.key}) is missing from the zip`);
      s.bytes = member!.read();
    }
  } else {
    format = 'legacy';
    if (bytes[0] !== 0x80) fail('neither a zip (torch.save since 1.6) nor a pickle (older torch.save): not a PyTorch checkpoint');
    const plain = { allowed: new Set<string>(), call: () => fail('damaged header'), persistentLoad: () => fail('damaged header') };
    const magic = unpickle(bytes, 0, plain, file);
    if (BigInt(magic.value as number | bigint) !== LEGACY_MAGIC) fail('a pickle, but not a PyTorch checkpoint (no torch magic number); refused');
    const protocol = unpickle(bytes, magic.end, plain, file);
    const info = unpickle(bytes, protocol.end, plain, file);
    // Legacy persistent ids add (view_key, offset, size) view metadata; views are not needed here.
    const object = unpickle(bytes, info.end, { ...options, persistentLoad: (pid: unknown) => {
      if (Array.isArray(pid) && pid[5] != null) fail('a storage view in a legacy checkpoint is not supported');
      return persistentLoad(pid);
    } }, file);
    root = object.value;
    const keys = unpickle(bytes, object.end, plain, file);
    let at = keys.end;
    for (const key of keys.value as unknown[]) {
      const s = storages.get(String(key));
      if (s == null) fail(`storage ${String(key)} is listed but no tensor uses it`);
      if (at + 8 > bytes.length) fail(`truncated: storage ${String(key)} is missing`);
      const count = Number(new DataView(bytes.buffer, bytes.byteOffset + at, 8).getBigInt64(0, true));
      const length = count * ELEMENT_BYTES[s!.type];
      if (at + 8 + length > bytes.length) fail(`truncated: storage ${String(key)} needs ${length} bytes, ${bytes.length - at - 8} remain`);
      s!.bytes = bytes.subarray(at + 8, at + 8 + length);
      at += 8 + length;
    }
  }

  // The state dict: the object itself, or the usual wrappers' entry.
  let dict = root;
  if (dict instanceof Map && ![...dict.values()].some((v) => v instanceof TensorRef)) {
    const inner = ['state_dict', 'model', 'model_state_dict'].map((k) => (dict as Map<unknown, unknown>).get(k)).find((v) => v instanceof Map);
    if (inner != null) dict = inner;
  }
  if (!(dict instanceof Map)) fail('the checkpoint holds no state dict (a mapping of names to tensors)');
  const tensors: NamedTensor[] = [];
  const other: string[] = [];
  for (const [key, value] of dict as Map<unknown, unknown>) {
    const name = String(key);
    if (!(value instanceof TensorRef)) {
      other.push(name);
      continue;
    }
    tensors.push({ name, dtype: value.storage.typeName.replace(/Storage$/, ''), shape: value.size, data: materialise(value, name, fail) });
  }
  return { tensors, other, format };
}

/** A tensor's elements in row-major order, following its strides into the storage. */
function materialise(t: TensorRef, name: string, fail: (problem: string) => never): Float32Array {
  const bytes = t.storage.bytes!;
  const itemSize = ELEMENT_BYTES[t.storage.type];
  const available = bytes.length / itemSize;
  const count = elementCount(t.size);
  if (count === 0) return new Float32Array(0);
  let last = t.offset;
  t.size.forEach((d, i) => (last += (d - 1) * t.stride[i]!));
  if (last >= available) fail(`tensor ${name}: shape [${t.size.join(', ')}] needs ${last + 1} elements of storage ${t.storage.key}, it holds ${available} (truncated?)`);
  const contiguous = t.size.every((_, i) => t.stride[i] === t.size.slice(i + 1).reduce((a, b) => a * b, 1) || t.size[i] === 1);
  if (contiguous) return decodeElements(bytes, t.offset * itemSize, count, t.storage.type);
  const all = decodeElements(bytes, 0, available, t.storage.type);
  const out = new Float32Array(count);
  const index = new Array<number>(t.size.length).fill(0);
  for (let n = 0; n < count; n++) {
    let at = t.offset;
    for (let i = 0; i < index.length; i++) at += index[i]! * t.stride[i]!;
    out[n] = all[at]!;
    for (let i = index.length - 1; i >= 0; i--) {
      if (++index[i]! < t.size[i]!) break;
      index[i] = 0;
    }
  }
  return out;
}
