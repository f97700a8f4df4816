/**
 * The figure kinds a report draws, in the order index.html shows them. A kind says when it applies
 * (gathering the data it needs from the report's context, or the note index.html gives otherwise)
 * and builds its figure from that data; ./index.ts registers one line per kind.
 */
import type { ReportContext } from '../context.js';
import type { Figure } from './shared.js';

/** A kind's data when the figure applies, else why it is not drawn (the note; null: nothing to say). */
export type Gathered<D> = { data: D } | { note: string | null };

export const drawn = <D>(data: D): Gathered<D> => ({ data });
export const notDrawn = (note: string | null = null): Gathered<never> => ({ note });

export interface FigureKind<D> {
  /** The figure's file stem, unique among kinds. */
  readonly name: string;
  /** When the figure applies, the data it draws, gathered from the report's context. */
  gather(context: ReportContext): Gathered<D> | Promise<Gathered<D>>;
  /** The figure (its Vega-Lite spec, data inlined) of that data. */
  build(data: D, context: ReportContext): Figure;
}

/** A registered kind with its data type hidden: the figure, or why it is not drawn. */
export interface RegisteredKind {
  readonly name: string;
  draw(context: ReportContext): Promise<{ figure: Figure } | { note: string | null }>;
}

export class FigureRegistry {
  private readonly kinds: RegisteredKind[] = [];

  /** Adds a kind after those registered; a name registered twice throws. */
  register<D>(kind: FigureKind<D>): this {
    if (this.kinds.some((k) => k.name === kind.name)) throw new Error(`figure kind '${kind.name}' is already registered`);
    this.kinds.push({
      name: kind.name,
      draw: async (context) => {
        const gathered = await kind.gather(context);
        return 'data' in gathered ? { figure: kind.build(gathered.data, context) } : gathered;
      },
    });
    return this;
  }

  /** The kinds in registration order. */
  list(): readonly RegisteredKind[] {
    return this.kinds;
  }
}
