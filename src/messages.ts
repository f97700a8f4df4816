/**
 * Every message dalab shows a user, in one place: wording stays consistent, and the table of bad
 * inputs (each answered with exit code 2 and one line) can be checked against this module.
 */

/** A mistake in what the user gave us (file, key, value, flag): exit code 2, one line, no stack. */
export class UserError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

const list = (values: readonly (string | number)[]): string => values.map((v) => String(v)).join(', ');

export const messages = {
  unknownBackend: (name: string, allowed: readonly string[]) =>
    `--backend: unknown backend '${name}' (allowed: ${list(allowed)})`,
  backendUnavailable: (name: string, reason: string) =>
    `--backend: '${name}' is not available here: ${reason} (run 'dalab backends' to see what loads)`,
  fileNotFound: (file: string) => `${file}: no such experiment file`,
  fileIsFolder: (file: string, yamls: readonly string[]) =>
    `${file}: a folder, not an experiment file (${yamls.length === 0 ? 'it holds no .yaml file' : `it holds ${yamls.length} .yaml file${yamls.length === 1 ? '' : 's'}: ${list(yamls.slice(0, 3))}${yamls.length > 3 ? ', ...' : ''}`})`,
  referenceFileNotFound: (file: string) => `--reference ${file}: no such file (an experiment file with a reference: block)`,
  referenceMissing: (file: string) => `--reference ${file}: the file has no reference: block (benchmark -> strategy -> published value, with cite:)`,
  yamlSyntax: (file: string, detail: string) => `${file}: not valid YAML: ${detail}`,
  notAMapping: (file: string) => `${file}: an experiment file must be a YAML mapping (key: value)`,
  badSetSyntax: (arg: string) => `--set ${arg}: expected key=value with a dotted key, e.g. --set train.steps=500`,
  setThroughList: (key: string) => `--set ${key}: cannot set a key inside a non-mapping value`,
  configField: (file: string, field: string, detail: string) => `${file}: ${field}: ${detail}`,
  renamedKey: (file: string, old: string, renamed: string, strategy: string) =>
    `${file}: ${old}: renamed to ${renamed} for strategy '${strategy}' (runs and sweeps started before this version rerun rather than resume)`,
  unknownAdapter: (name: string, allowed: readonly string[]) =>
    `adapter.name: unknown strategy '${name}' (allowed: ${list(allowed)})`,
  unknownValidator: (name: string, allowed: readonly string[]) =>
    `select.by: unknown validator '${name}' (allowed: ${list(allowed)})`,
  badInputShape: (text: string) => `--input: '${text}' is not H,W,C (positive integers, C 1 or 3; e.g. 32,32,3)`,
  unknownBackbone: (name: string, allowed: readonly string[]) =>
    `model.backbone: unknown backbone '${name}' (allowed: ${list(allowed)})`,
  unknownDataset: (field: string, name: string, allowed: readonly string[]) =>
    `${field}: unknown dataset '${name}' (allowed: ${list(allowed)})`,
  datasetFolderMissing: (field: string, folder: string) => `${field}: folder '${folder}' does not exist`,
  datasetFileMissing: (field: string, folder: string, wanted: string) =>
    `${field}: '${folder}' has no ${wanted} (also tried with .gz)`,
  corruptMat: (file: string, detail: string) => `${file}: not a valid MAT-file: ${detail}`,
  corruptUsps: (file: string, detail: string) => `${file}: not a valid USPS file: ${detail}`,
  corruptMnistM: (file: string, detail: string) => `${file}: not a valid MNIST-M archive: ${detail}`,
  datasetNotDownloaded: (field: string, name: string, missing: readonly string[], dir: string) =>
    `${field}: dataset '${name}' is not downloaded (missing ${missing.join(', ')} in ${dir}); run: dalab data download ${name}`,
  downloadFailed: (name: string, file: string, tries: readonly string[]) => `data download ${name}: ${file} could not be fetched: ${tries.join('; ')}`,
  unknownDataDataset: (name: string, allowed: readonly string[]) => `data: unknown dataset '${name}' (downloadable: ${allowed.join(', ')})`,
  importMissing: (name: string, dir: string, missing: readonly string[]) => `data import ${name}: ${dir} lacks ${missing.join(', ')}`,
  importChecksum: (name: string, file: string, detail: string) => `data import ${name}: ${file} ${detail}`,
  badImageFile: (file: string, detail: string) => `${file}: cannot decode the image (${detail})`,
  folderEmpty: (field: string, dir: string) => `${field}: ${dir} has no class folders with PNG/JPEG images (expected train/<class>/*.png and test/<class>/*.png)`,
  folderSizes: (field: string, file: string, got: string, want: string) => `${field}: ${file} is ${got}, the other images ${want} (one size per domain; model.input resizes)`,
  folderPartMissing: (field: string, root: string, part: string) => `${field}: ${root} has no ${part}/ folder (expected train/<class>/... and test/<class>/...)`,
  folderExtraClass: (field: string, root: string, extra: readonly string[]) => `${field}: ${root}/test has classes not in train/: ${extra.join(', ')}`,
  badTaskClass: (field: string, cls: number, dataset: string, numClasses: number) => `${field}.classes: class ${cls} does not exist in ${dataset} (${numClasses} classes: 0 to ${numClasses - 1})`,
  relabelMissing: (field: string, label: number) => `${field}.relabel: no new label for class ${label} (map every kept class)`,
  corruptIdx: (file: string, detail: string) => `${file}: not a valid IDX file: ${detail}`,
  labelsNeedLabelledTarget: (adapter: string) =>
    `target.labels: strategy '${adapter}' needs labelled target images; set target.labels to N (per class) or all`,
  tooFewLabels: (perClass: number, cls: number, available: number) =>
    `target.labels: ${perClass} labels per class requested, but class ${cls} has only ${available} images in the target train pool`,
  unsupportedTrackingUri: (uri: string) =>
    `tracking.uri: '${uri}' is not supported (use file:PATH or an MLflow server, http(s)://...)`,
  trackingRefused: (uri: string, status: number) =>
    `tracking.uri: ${uri} refused the credentials (HTTP ${status}${status === 401 ? ' Unauthorized' : ' Forbidden'}); set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD, or MLFLOW_TRACKING_TOKEN`,
  trackingUnreachable: (uri: string, reason: string) =>
    `tracking.uri: no MLflow server answers at ${uri} (${reason}); check the URI, or set tracking.fallback: offline to log to ./mlruns and deliver later with 'dalab sync'`,
  badTrackingUri: (uri: string) => `tracking.uri: '${uri}' must start with file: or http(s)://`,
  noFontFiles: () => 'synth-digits: no font files found (the @expo-google-fonts packages are missing: run npm install)',
  unknownPeer: (value: string) => `--peer: unknown peer '${value}' (allowed: torch)`,
  noPeerStrategy: (names: string[], allowed: readonly string[]) => `--peer torch: no PyTorch peer for strategy ${names.map((n) => `'${n}'`).join(', ')} (peers exist for ${allowed.join(', ')}; pass --strategies)`,
  badBenchSteps: (value: string) => `--steps: '${value}' is not a positive whole number`,
  unknownLayer: (key: string, strategy: string, layer: string, allowed: readonly string[]) =>
    `adapter.${key}: strategy '${strategy}' has no layer '${layer}' to read (layers of this backbone: ${list(allowed)})`,
  freezeTooDeep: (k: number, layers: readonly string[]) =>
    `adapter.freeze: cannot freeze ${k} layers, the backbone has ${layers.length} (${list(layers)})`,
  unknownFreezeLayer: (name: string, layers: readonly string[]) => `adapter.freeze: no layer '${name}' (layers: ${list(layers)})`,
  modelFromNotFound: (from: string) =>
    `model.from: '${from}' is neither a run id in the tracking store nor a checkpoint folder or model.json`,
  modelFromUnsplittable: (file: string, detail: string) => `model.from: ${file}: cannot split into encoder and head: ${detail}`,
  dsnInputShape: (input: readonly number[]) => `model.input: strategy 'dsn' needs a height and width divisible by 4 (its decoder upsamples twice), got ${input.join('x')}`,
  reportStoreMissing: (root: string) => `report: no offline store at '${root}' (run an experiment first, or pass --from URI)`,
  badRunFilter: (filter: string) => `--runs: '${filter}' is not KEY=VALUE (e.g. adapter.name=dann or adapter.name=dann|mmd)`,
  reportNoRuns: (from: string, skipped: string) => `report: no finished dalab runs in ${from}${skipped}`,
  reportNoMetric: (metric: string, runs: number) => `report: none of the ${runs} runs logged the metric '${metric}' (see --metric)`,
  badSweepIndex: (index: string, size: number) => `--index: '${index}' is not a combination of this sweep (0 to ${size - 1})`,
  indexNeedsParent: () => `--index and --parent go together (a worker or Slurm task runs one combination under an existing parent run)`,
  badWorkers: (value: string) => `--workers: '${value}' is not a positive integer`,
  badEmit: (kind: string) => `--emit: '${kind}' is not supported (use --emit slurm)`,
  syncStoreMissing: (store: string) => `sync: no offline store at '${store}'`,
  badSyncTarget: (uri: string) => `--to: '${uri}' is not an MLflow server URI (http(s)://...)`,
  runFailed: (detail: string) => `run failed while training: ${detail}`,
  wasmAborted: () =>
    'the WebAssembly backend aborted, almost always because its memory (at most 4 GB) ran out: lower train.batchSize, or train on native TensorFlow (npm run native:install)',
  bugReportHint: () => 'set DALAB_DEBUG=1 to see the stack trace',
};
