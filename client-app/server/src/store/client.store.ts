import type { Knex } from 'knex';

export interface ClientRow {
  client_id: string;
  client_secret: string; // sealed, AAD = client id
  key_id: string;
  redirect_uri: string;
}

/** The BFF's own registration at Picard: one row. */
export class ClientStore {
  constructor(private readonly db: Knex) {}

  async get(): Promise<ClientRow | undefined> {
    return (await this.db('picard_client').where('id', 1).first()) as ClientRow | undefined;
  }

  async save(row: ClientRow): Promise<void> {
    await this.db('picard_client')
      .insert({ id: 1, ...row })
      .onConflict('id')
      .merge({ ...row, created_at: this.db.fn.now() });
  }
}
