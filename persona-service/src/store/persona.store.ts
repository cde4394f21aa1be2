import type { Knex } from '@picard/service-kit';
import type { DirectoryPosition } from '../domain/directory.rules.js';
import type { StoredSettings } from '../domain/persona.rules.js';

export type StoredPersona = StoredSettings & { userId: string; updatedAt: Date };

interface PersonaRow {
  user_id: string;
  display_name: string;
  description: string;
  tone: string;
  tags: string[];
  model: string | null;
  temperature: number;
  max_tokens: number;
  memory_limit: number;
  listed: boolean;
  updated_at: Date;
}

const TABLE = 'personas';

/** A LIKE pattern matching `text` literally anywhere: its own `%`, `_` and backslash are escaped. */
const containsPattern = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

const fromRow = (r: PersonaRow): StoredPersona => ({
  userId: r.user_id,
  displayName: r.display_name,
  description: r.description,
  tone: r.tone,
  tags: r.tags ?? [],
  model: r.model,
  temperature: Number(r.temperature),
  maxTokens: r.max_tokens,
  memoryLimit: r.memory_limit,
  listed: Boolean(r.listed),
  updatedAt: new Date(r.updated_at),
});

const toRow = (userId: string, s: StoredSettings) => ({
  user_id: userId,
  display_name: s.displayName,
  description: s.description,
  tone: s.tone,
  tags: s.tags,
  model: s.model,
  temperature: s.temperature,
  max_tokens: s.maxTokens,
  memory_limit: s.memoryLimit,
  listed: s.listed,
});

/** The only place persona SQL lives. */
export class PersonaStore {
  constructor(private readonly knex: Knex) {}

  async find(userId: string): Promise<StoredPersona | undefined> {
    const row = await this.knex<PersonaRow>(TABLE).where({ user_id: userId }).first();
    return row ? fromRow(row) : undefined;
  }

  /**
   * Listed personas in (display_name, user_id) order after `after`, optionally whose display name
   * contains `query` (case-insensitive). The row comparison uses the same collation as the ORDER BY,
   * so pages neither skip nor repeat a row.
   */
  async listListed(opts: {
    query: string;
    limit: number;
    after?: DirectoryPosition;
  }): Promise<StoredPersona[]> {
    const q = this.knex<PersonaRow>(TABLE)
      .where({ listed: true })
      .orderBy([
        { column: 'display_name', order: 'asc' },
        { column: 'user_id', order: 'asc' },
      ])
      .limit(opts.limit);
    if (opts.query) q.whereRaw(`display_name ILIKE ? ESCAPE '\\'`, [containsPattern(opts.query)]);
    if (opts.after) {
      q.whereRaw('(display_name, user_id) > (?, ?)', [opts.after.displayName, opts.after.userId]);
    }
    return (await q).map(fromRow);
  }

  /**
   * Read-modify-write under a row lock: the row is created with the defaults first (a no-op when
   * it exists), so two first-time updates of one user serialise instead of overwriting each other.
   * `change` may throw; then nothing is written.
   */
  async update(
    userId: string,
    defaults: StoredSettings,
    change: (current: StoredSettings) => StoredSettings,
  ): Promise<StoredPersona> {
    return this.knex.transaction(async (trx) => {
      await trx(TABLE).insert(toRow(userId, defaults)).onConflict('user_id').ignore();
      const current = await trx<PersonaRow>(TABLE).where({ user_id: userId }).forUpdate().first();
      const next = change(fromRow(current!));
      const [row] = await trx<PersonaRow>(TABLE)
        .where({ user_id: userId })
        .update({ ...toRow(userId, next), updated_at: trx.fn.now() as unknown as Date })
        .returning('*');
      return fromRow(row as PersonaRow);
    });
  }
}
