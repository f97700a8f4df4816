/**
 * What part a strategy plays in a comparison, read from the tags every run logs rather than from
 * its name:
 * - the lower bound (`source`): family 'baseline', never reads target labels;
 * - the oracle (`target`): family 'baseline', trained on labelled target data;
 * - every other strategy is a method compared with them.
 * Runs without the tags (stores written by an earlier dalab) are classified by strategy name.
 */
import { RUN_TAGS } from '../tracking/run-files.js';

export type Role = 'lower-bound' | 'oracle' | 'method';
export type ReferenceRole = Exclude<Role, 'method'>;

/** The strategy names of the reference roles in stores written before the tags existed. */
const LEGACY_NAMES: Record<ReferenceRole, string> = { 'lower-bound': 'source', oracle: 'target' };

export interface StrategyTags {
  /** The strategy's name (`dalab.adapter`). */
  adapter: string;
  /** `dalab.family`: baseline | fine-tuning | alignment | split networks | distillation. */
  family?: string | undefined;
  /** `dalab.target_labels`: never | optional | required | oracle. */
  targetLabels?: string | undefined;
}

/** The one rule: by the tags when the run has both, else by the legacy name. */
export function roleOf(strategy: StrategyTags): Role {
  if (strategy.family != null && strategy.targetLabels != null) {
    if (strategy.family !== 'baseline') return 'method';
    return strategy.targetLabels === 'never' ? 'lower-bound' : strategy.targetLabels === 'oracle' ? 'oracle' : 'method';
  }
  return strategy.adapter === LEGACY_NAMES['lower-bound'] ? 'lower-bound' : strategy.adapter === LEGACY_NAMES.oracle ? 'oracle' : 'method';
}

/** The role of a tracked run from its tags. */
export function runRole(tags: Readonly<Record<string, string>>): Role {
  return roleOf({ adapter: tags['dalab.adapter'] ?? '', family: tags[RUN_TAGS.family], targetLabels: tags[RUN_TAGS.targetLabels] });
}

/** Each method's role (method: the strategy plus its varied options, as tables and figures name it). */
export class MethodRoles {
  private readonly byMethod = new Map<string, Role>();

  constructor(rows: Iterable<{ method: string; role: Role }> = []) {
    for (const r of rows) if (!this.byMethod.has(r.method)) this.byMethod.set(r.method, r.role);
  }

  /** The role of a method; undefined for a name that is no method (a per-run label, a split). */
  of(method: string): Role | undefined {
    return this.byMethod.get(method);
  }

  /** The lower bound first, the oracle last, the rest in name order (names that are no method: name order). */
  order(methods: Iterable<string>): string[] {
    const rank = (m: string) => {
      const role = this.of(m);
      return role === 'lower-bound' ? 0 : role === 'oracle' ? 2 : 1;
    };
    return [...new Set(methods)].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  }

  /** The methods that play the role, in name order. */
  named(role: ReferenceRole): string[] {
    return [...this.byMethod].filter(([, r]) => r === role).map(([m]) => m).sort((a, b) => a.localeCompare(b));
  }

  /** How text names the role: its methods' names, or the legacy name when no method plays it. */
  label(role: ReferenceRole): string {
    const names = this.named(role);
    return names.length > 0 ? names.join('/') : LEGACY_NAMES[role];
  }

  /**
   * A Vega expression true for the role's rows (`datum.method === 'source'`); with no method in
   * the role it names the legacy strategy, which no row then has.
   */
  filter(role: ReferenceRole, negate = false): string {
    const names = this.named(role);
    const quoted = (names.length > 0 ? names : [LEGACY_NAMES[role]]).map((n) => `'${n.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`);
    const test = quoted.map((q) => `datum.method ${negate ? '!==' : '==='} ${q}`).join(negate ? ' && ' : ' || ');
    return quoted.length > 1 ? `(${test})` : test;
  }
}
