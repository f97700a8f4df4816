/**
 * Task shift (same images, other labels): a domain keeps only `classes` and/or relabels them
 * (`relabel: parity`, or an explicit map original -> new). Without `relabel`, the kept classes are
 * numbered by their position in `classes`. Applied to every part of the domain, before splitting.
 */
import { UserError, messages } from '../messages.js';
import type { DomainSource, ImageSet } from './types.js';
import { subset } from './types.js';

export interface TaskSpec {
  classes?: number[] | undefined;
  relabel?: 'parity' | Record<string, number> | undefined;
}

export function applyTask(source: DomainSource, spec: TaskSpec, field: string): DomainSource {
  if (spec.classes == null && spec.relabel == null) return source;
  const keep = spec.classes;
  if (keep != null) for (const c of keep) if (c >= source.numClasses) throw new UserError(messages.badTaskClass(field, c, source.name, source.numClasses));
  const map = (label: number): number => {
    if (spec.relabel === 'parity') return label % 2;
    if (spec.relabel != null) {
      const v = spec.relabel[String(label)];
      if (v == null) throw new UserError(messages.relabelMissing(field, label));
      return v;
    }
    return keep != null ? keep.indexOf(label) : label;
  };
  const part = (set: ImageSet): ImageSet => {
    const indices: number[] = [];
    for (let i = 0; i < set.count; i++) if (keep == null || keep.includes(set.labels[i]!)) indices.push(i);
    const out = subset(set, indices);
    for (let i = 0; i < out.count; i++) out.labels[i] = map(out.labels[i]!);
    return out;
  };
  const train = part(source.train);
  const test = part(source.test);
  const val = source.val != null ? part(source.val) : undefined;
  let max = 0;
  for (const s of [train, test, ...(val != null ? [val] : [])]) for (const l of s.labels) max = Math.max(max, l);
  const suffix = [keep != null ? `classes=${keep.join(',')}` : '', spec.relabel === 'parity' ? 'relabel=parity' : spec.relabel != null ? 'relabel=map' : ''].filter((x) => x !== '').join(';');
  return { name: `${source.name}[${suffix}]`, numClasses: max + 1, train, test, ...(val != null ? { val } : {}) };
}
