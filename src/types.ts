/** Injection tokens of the composition root (src/container.ts). */
export const TYPES = {
  AdapterFactory: Symbol.for('dalab.AdapterFactory'),
  BackboneFactory: Symbol.for('dalab.BackboneFactory'),
  TrackerFactory: Symbol.for('dalab.TrackerFactory'),
  Validator: Symbol.for('dalab.Validator'),
  DatasetProvider: Symbol.for('dalab.DatasetProvider'),
} as const;
