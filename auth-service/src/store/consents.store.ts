import { toDate, type Db } from './db.js';

export interface ConsentRow {
  user_id: string;
  client_id: string;
  scope: string;
  created_at: Date;
  updated_at: Date;
}

const fromDb = (r: Record<string, unknown>): ConsentRow => ({
  user_id: String(r.user_id),
  client_id: String(r.client_id),
  scope: String(r.scope),
  created_at: toDate(r.created_at),
  updated_at: toDate(r.updated_at),
});

/** Which users approved which clients (through the authorization flow), and for what scope. */
export class ConsentsStore {
  constructor(private readonly db: Db) {}

  async upsert(userId: string, clientId: string, scope: string): Promise<void> {
    await this.db('consents')
      .insert({ user_id: userId, client_id: clientId, scope })
      .onConflict(['user_id', 'client_id'])
      .merge({ scope, updated_at: this.db.fn.now() });
  }

  async find(userId: string, clientId: string): Promise<ConsentRow | undefined> {
    const row = await this.db('consents').where({ user_id: userId, client_id: clientId }).first();
    return row ? fromDb(row) : undefined;
  }

  /** A user's consents with the client's name, newest first. */
  async listForUser(userId: string): Promise<(ConsentRow & { client_name: string })[]> {
    const rows = await this.db('consents as k')
      .join('clients as c', 'c.client_id', 'k.client_id')
      .where('k.user_id', userId)
      .select('k.*', 'c.client_name')
      .orderBy([{ column: 'k.updated_at', order: 'desc' }, { column: 'k.client_id' }]);
    return rows.map((r: Record<string, unknown>) => ({ ...fromDb(r), client_name: String(r.client_name) }));
  }

  async delete(userId: string, clientId: string): Promise<boolean> {
    const rows = await this.db('consents')
      .where({ user_id: userId, client_id: clientId })
      .delete()
      .returning('client_id');
    return rows.length === 1;
  }

  async exists(userId: string, clientId: string): Promise<boolean> {
    return (await this.db('consents').where({ user_id: userId, client_id: clientId }).first()) !== undefined;
  }
}
