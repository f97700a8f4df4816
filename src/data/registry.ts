/**
 * Datasets by name: the providers bound in src/container.ts (one file each in src/data/datasets/).
 * Refuses two providers of one name. Built-in and downloaded datasets are the same bytes every
 * time: a process loads (renders, decodes) each once; a generic one (`idx:PATH`) is read each time.
 */
import { injectable, multiInject } from 'inversify';
import { TYPES } from '../types.js';
import { UserError, messages } from '../messages.js';
import { isDownloadable, type DatasetProvider, type DownloadableProvider } from './dataset.js';
import type { DomainSource } from './types.js';

@injectable()
export class DatasetRegistry {
  private readonly loaded = new Map<string, DomainSource>();

  constructor(@multiInject(TYPES.DatasetProvider) private readonly providers: DatasetProvider[]) {
    const seen = new Set<string>();
    for (const p of providers) {
      if (seen.has(p.name)) throw new Error(`two dataset providers are named '${p.name}' (src/container.ts)`);
      seen.add(p.name);
    }
  }

  all(): readonly DatasetProvider[] {
    return this.providers;
  }

  /** Every name a dataset field accepts (generic ones as `idx:PATH`). */
  names(): string[] {
    return this.providers.map((p) => p.usage ?? p.name);
  }

  /** The provider of a name and its argument (the path of `idx:PATH`), or a UserError naming `field`. */
  resolve(name: string, field: string): { provider: DatasetProvider; argument: string } {
    for (const provider of this.providers) {
      if (provider.kind === 'generic' ? name.startsWith(provider.name) : name === provider.name) {
        return { provider, argument: provider.kind === 'generic' ? name.slice(provider.name.length) : name };
      }
    }
    throw new UserError(messages.unknownDataset(field, name, this.names()));
  }

  /** Checks a name before any backend loads: unknown names, missing folders and files not downloaded exit 2 at once. */
  check(name: string, field: string): void {
    const { provider, argument } = this.resolve(name, field);
    provider.check(argument, field);
  }

  load(name: string, field: string): DomainSource {
    const { provider, argument } = this.resolve(name, field);
    if (provider.kind === 'generic') return provider.load(argument, field);
    let source = this.loaded.get(name);
    if (source == null) {
      source = provider.load(argument, field);
      this.loaded.set(name, source);
    }
    return source;
  }

  /** The providers whose files the cache downloads. */
  downloadable(): DownloadableProvider[] {
    return this.providers.filter(isDownloadable);
  }

  /** A downloadable dataset by name, or a UserError listing them (`dalab data download / import`). */
  findDownloadable(name: string): DownloadableProvider {
    const found = this.downloadable().find((p) => p.name === name);
    if (found == null) throw new UserError(messages.unknownDataDataset(name, this.downloadable().map((p) => p.name)));
    return found;
  }
}
