/**
 * How a domain and a benchmark are named wherever people read them (the `dalab.benchmark` tag,
 * tables, figure titles, progress lines): the domain's own `name` when the file gives one, else the
 * dataset's name; a generic dataset (`idx:PATH`, `folder:PATH`) is named after its folder's last
 * path component, so a user's absolute path never reaches a report.
 */

/** The prefixes of datasets that name a folder (README, "Datasets"). */
const FOLDER_PREFIXES = ['idx:', 'folder:'];

/** `idx:/home/user/data/scans/` -> `scans`; any other dataset name unchanged. */
export function datasetDisplayName(dataset: string): string {
  const prefix = FOLDER_PREFIXES.find((p) => dataset.startsWith(p));
  if (prefix == null) return dataset;
  const parts = dataset.slice(prefix.length).split(/[\\/]+/).filter((p) => p !== '' && p !== '.');
  const last = parts[parts.length - 1];
  return last == null || last === '..' ? dataset.slice(0, prefix.length - 1) : last;
}

/** A domain's display name: its `name`, else its dataset's display name. */
export function domainName(domain: { dataset: string; name?: string | undefined }): string {
  return domain.name ?? datasetDisplayName(domain.dataset);
}

/** `SOURCE->TARGET` in display names. */
export function benchmarkName(config: { source: { dataset: string; name?: string | undefined }; target: { dataset: string; name?: string | undefined } }): string {
  return `${domainName(config.source)}->${domainName(config.target)}`;
}

/**
 * A benchmark tag written before domains had display names (`mnist-10k->idx:/home/u/digits`),
 * shortened by the same rule; a tag in display names is returned unchanged.
 */
export function shortBenchmark(tag: string): string {
  const at = tag.indexOf('->');
  if (at < 0) return datasetDisplayName(tag);
  return `${datasetDisplayName(tag.slice(0, at))}->${datasetDisplayName(tag.slice(at + 2))}`;
}
