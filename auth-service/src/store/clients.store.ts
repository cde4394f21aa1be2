import type { Db } from './db.js';
import { jsonArray, toDate } from './db.js';

export interface ClientRow {
  client_id: string;
  secret_hash: string;
  client_name: string;
  redirect_uris: string[];
  scopes: string[];
  grant_types: string[];
  token_endpoint_auth_method: string;
  first_party: boolean;
  user_token_flow_enabled: boolean;
  created_by_user_id: string | null;
  created_at: Date;
}

const fromDb = (r: Record<string, unknown>): ClientRow => ({
  ...(r as unknown as ClientRow),
  redirect_uris: jsonArray(r.redirect_uris),
  scopes: jsonArray(r.scopes),
  grant_types: jsonArray(r.grant_types),
  created_at: toDate(r.created_at),
});

export class ClientsStore {
  constructor(private readonly db: Db) {}

  async findById(clientId: string): Promise<ClientRow | undefined> {
    const row = await this.db('clients').where({ client_id: clientId }).first();
    return row ? fromDb(row) : undefined;
  }

  async list(): Promise<ClientRow[]> {
    const rows = await this.db('clients').orderBy([{ column: 'created_at' }, { column: 'client_id' }]);
    return rows.map(fromDb);
  }

  async insert(row: Omit<ClientRow, 'created_at'>): Promise<ClientRow> {
    // Arrays go in as JSON text: the pg driver would otherwise send them as PostgreSQL arrays.
    const [inserted] = await this.db('clients')
      .insert({
        ...row,
        redirect_uris: JSON.stringify(row.redirect_uris),
        scopes: JSON.stringify(row.scopes),
        grant_types: JSON.stringify(row.grant_types),
      })
      .returning('*');
    return fromDb(inserted);
  }
}
