import type { Db } from './db.js';

/** Which users approved which clients (through the authorization flow), and for what scope. */
export class ConsentsStore {
  constructor(private readonly db: Db) {}

  async upsert(userId: string, clientId: string, scope: string): Promise<void> {
    await this.db('consents')
      .insert({ user_id: userId, client_id: clientId, scope })
      .onConflict(['user_id', 'client_id'])
      .merge({ scope, updated_at: this.db.fn.now() });
  }

  async exists(userId: string, clientId: string): Promise<boolean> {
    return (await this.db('consents').where({ user_id: userId, client_id: clientId }).first()) !== undefined;
  }
}
