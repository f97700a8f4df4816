/**
 * The dataset contract. One provider per dataset (src/data/datasets/), one binding line each in
 * src/container.ts; the registry (registry.ts) resolves the names an experiment file uses.
 * A name never changes meaning with what is cached: `mnist-10k` is always the embedded set,
 * `idx:PATH` always that folder.
 */
import type { DomainSource } from './types.js';
import type { RemoteFile } from './cache.js';

export interface DatasetProvider {
  /** The name in experiment files; a generic provider's name is its prefix, ending with ':' (`idx:`). */
  readonly name: string;
  /** How `dalab data list` shows it: shipped with dalab, rendered by dalab, downloaded into the cache, or a folder of the user's. */
  readonly kind: 'embedded' | 'rendered' | 'download' | 'generic';
  readonly description: string;
  /** A generic provider's placeholder for its argument (`idx:PATH`). */
  readonly usage?: string;
  /** A downloadable dataset's files under their authors' names, with checksums. */
  readonly files?: readonly RemoteFile[];
  /** Fails at once (UserError naming `field`) when the dataset cannot be loaded: a missing folder, files not downloaded. */
  check(argument: string, field: string): void;
  /** The dataset; `argument` is the part after a generic provider's prefix, else the name itself. */
  load(argument: string, field: string): DomainSource;
}

/** A provider with `files`: the ones the cache downloads, imports and checks. */
export type DownloadableProvider = DatasetProvider & { readonly files: readonly RemoteFile[] };

export function isDownloadable(provider: DatasetProvider): provider is DownloadableProvider {
  return provider.files != null;
}
