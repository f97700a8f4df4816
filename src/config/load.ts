/**
 * Loading an experiment: YAML file -> `--set` overrides -> strict validation -> resolved config.
 * Every failure is a UserError with one line naming the field and what is allowed.
 */
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import YAML from 'yaml';
import { z } from 'zod';
import { UserError, messages } from '../messages.js';
import { experimentSchema, type ExperimentConfig } from './schema.js';

export type RawConfig = Record<string, unknown>;

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function readExperimentFile(file: string): RawConfig {
  if (!fs.existsSync(file)) throw new UserError(messages.fileNotFound(file));
  if (fs.statSync(file).isDirectory()) {
    const yamls = fs.readdirSync(file).filter((f) => /\.ya?ml$/.test(f)).sort();
    throw new UserError(messages.fileIsFolder(file, yamls));
  }
  if (!fs.statSync(file).isFile()) throw new UserError(messages.fileNotFound(file));
  const text = fs.readFileSync(file, 'utf8');
  let parsed: unknown;
  try {
    parsed = YAML.parse(text, { prettyErrors: false });
  } catch (error) {
    const detail = error instanceof Error ? error.message.split('\n')[0]! : String(error);
    // The yaml package gives the error's character offsets (pos); line and column count from 1.
    const offset = (error as { pos?: number[] }).pos?.[0];
    let where = file;
    if (offset != null) {
      const before = text.slice(0, offset).split('\n');
      where = `${file}:${before.length}:${before[before.length - 1]!.length + 1}`;
    }
    throw new UserError(messages.yamlSyntax(where, detail));
  }
  if (!isMapping(parsed)) throw new UserError(messages.notAMapping(file));
  return parsed;
}

/** `key.path=value`, value parsed as YAML (`500` is a number, `[1,2]` a list, `coral` a string). */
export function parseSetArgument(arg: string): { key: string[]; value: unknown } {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new UserError(messages.badSetSyntax(arg));
  const key = arg.slice(0, eq).trim().split('.');
  if (key.some((part) => part === '')) throw new UserError(messages.badSetSyntax(arg));
  const text = arg.slice(eq + 1);
  let value: unknown;
  try {
    value = text === '' ? '' : YAML.parse(text);
  } catch {
    value = text;
  }
  return { key, value };
}

/** Sets a dotted key inside a (deep-copied) raw config; creates intermediate mappings. */
export function setDotted(config: RawConfig, key: string[], value: unknown): RawConfig {
  const copy = structuredClone(config);
  let node: Record<string, unknown> = copy;
  for (const part of key.slice(0, -1)) {
    const next = node[part];
    if (next === undefined || next === null) {
      node[part] = {};
    } else if (!isMapping(next)) {
      throw new UserError(messages.setThroughList(key.join('.')));
    }
    node = node[part] as Record<string, unknown>;
  }
  node[key[key.length - 1]!] = value;
  return copy;
}

/** The keys an object schema at `path` accepts (through defaults and optionals), for error messages. */
export function allowedKeys(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: z.ZodType | undefined = schema;
  const unwrap = (s: z.ZodType): z.ZodType => {
    let current = s;
    while (current instanceof z.ZodDefault || current instanceof z.ZodOptional || current instanceof z.ZodNullable) {
      current = current.unwrap() as z.ZodType;
    }
    return current;
  };
  for (const part of path) {
    node = unwrap(node);
    node = node instanceof z.ZodObject ? (node.shape as Record<string, z.ZodType>)[String(part)] : undefined;
    if (node == null) return [];
  }
  node = unwrap(node);
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

/** One issue as (field, what is wrong): unknown keys are named as fields of their own. */
export function describeIssue(issue: z.core.$ZodIssue, schema: z.ZodType, prefix: readonly PropertyKey[] = []): { field: string; detail: string } {
  const path = [...prefix, ...issue.path];
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(schema, issue.path);
    return {
      field: [...path, issue.keys[0]!].join('.'),
      detail: `unknown key${allowed.length > 0 ? ` (allowed: ${allowed.join(', ')})` : ''}`,
    };
  }
  if (issue.code === 'invalid_union') {
    // Name the alternative that got furthest into the value (the deepest first issue).
    const firsts = issue.errors.map((list) => list[0]).filter((i): i is z.core.$ZodIssue => i != null);
    const deepest = firsts.sort((a, b) => b.path.length - a.path.length)[0];
    if (deepest != null && deepest.path.length > 0) return describeIssue(deepest, schema, path);
  }
  return { field: path.length > 0 ? path.join('.') : '(top level)', detail: issueDetail(issue) };
}

function issueDetail(issue: z.core.$ZodIssue): string {
  switch (issue.code) {
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'invalid_union':
      return 'has a value of the wrong kind';
    default:
      return issue.message.replace(/^Invalid input: /, '');
  }
}

/**
 * A plug-in's own options (a strategy's `adapter:` keys, a backbone's `model.backbone:` keys)
 * parsed by its schema: the parsed value, and a copy as a plain record for logging. A bad option
 * is a UserError naming `prefix.key` and the plug-in (`for strategy 'dann'`).
 */
export function parseOptions<O>(schema: z.ZodType<O>, raw: unknown, origin: string, prefix: readonly string[], owner: string): { options: O; resolved: Record<string, unknown> } {
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const { field, detail } = describeIssue(parsed.error.issues[0]!, schema, prefix);
    throw new UserError(messages.configField(origin, field, `${detail} for ${owner}`));
  }
  const options = parsed.data;
  return { options, resolved: typeof options === 'object' && options != null ? { ...(options as Record<string, unknown>) } : {} };
}

export function validateExperiment(raw: RawConfig, origin: string): ExperimentConfig {
  const result = experimentSchema.safeParse(raw);
  if (!result.success) {
    const { field, detail } = describeIssue(result.error.issues[0]!, experimentSchema);
    throw new UserError(messages.configField(origin, field, detail));
  }
  return result.data;
}

export function loadExperiment(file: string, sets: readonly string[] = []): ExperimentConfig {
  let raw = readExperimentFile(file);
  for (const arg of sets) {
    const { key, value } = parseSetArgument(arg);
    raw = setDotted(raw, key, value);
  }
  return validateExperiment(raw, file);
}

/** Flattens a config to dotted keys; lists are JSON (the MLflow params of a run). */
export function flattenConfig(value: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (isMapping(value)) {
    for (const [k, v] of Object.entries(value)) flattenConfig(v, prefix === '' ? k : `${prefix}.${k}`, out);
  } else if (value !== undefined) {
    out[prefix] = Array.isArray(value) ? JSON.stringify(value) : String(value);
  }
  return out;
}

/** A stable hash of the resolved config minus what does not change results (tracking, sweep). */
/** Keys added since 0.2 and their defaults (the behaviour before them), as flattened params: the config hash leaves them out at these values, the report reads them into runs that predate them. */
export const ADDED_SINCE_0_2: Readonly<Record<string, string>> = { 'train.nesterov': 'false', 'train.invGamma': '0.001', 'train.power': '0.75', 'train.warmup': '0' };

export function configHash(config: ExperimentConfig): string {
  const { tracking: _tracking, sweep: _sweep, reference: _reference, ...rest } = config;
  const flat = flattenConfig(rest);
  // Keys added after a release, at the value that reproduces that release's behaviour, leave the
  // hash as it was: sweeps started before them still find their finished runs.
  for (const [key, value] of Object.entries(ADDED_SINCE_0_2)) if (flat[key] === value) delete flat[key];
  const canonical = Object.keys(flat)
    .sort()
    .map((k) => `${k}=${flat[k]}`)
    .join('\n');
  return createHash('sha256').update(canonical).digest('hex').slice(0, 16);
}
