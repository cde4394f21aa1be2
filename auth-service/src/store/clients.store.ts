import type { Db } from './db.js';
import { jsonArray, toDate } from './db.js';

export interface ClientRow {
  client_id: string;
  /** Null for public clients (token_endpoint_auth_method "none"). */
  secret_hash: string | null;
  client_name: string;
  redirect_uris: string[];
  scopes: string[];
  grant_types: string[];
  token_endpoint_auth_method: string;
  first_party: boolean;
  user_token_flow_enabled: boolean;
  /** Made a service principal by the admin: may act as itself (client_credentials) on user data. */
  service_principal: boolean;
  created_by_user_id: string | null;
  /** The https URL a Client ID Metadata Document client calls itself; null for registered clients. */
  metadata_url: string | null;
  created_at: Date;
}

/** What a client calls itself: its metadata URL, else its UUID (access tokens and introspection say this). */
export const publicClientId = (c: Pick<ClientRow, 'client_id' | 'metadata_url'>): string =>
  c.metadata_url ?? c.client_id;

export type NewClientRow = Omit<ClientRow, 'created_at' | 'metadata_url' | 'service_principal'> & {
  metadata_url?: string | null;
  service_principal?: boolean;
  registered_from?: string | null;
  last_used_at?: Date | null;
};

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

  /** Dynamic registrations since a time, for the registration rate limit (shared by every instance). */
  async countDynamicSince(since: Date, source?: string): Promise<number> {
    // Metadata-document clients are not registrations: their documents bound them, not this cap.
    const q = this.db('clients')
      .where({ first_party: false })
      .whereNull('metadata_url')
      .andWhere('created_at', '>=', since);
    if (source !== undefined) q.andWhere({ registered_from: source });
    const [row] = await q.count({ n: '*' });
    return Number((row as { n: unknown }).n);
  }

  /** Records a use of a metadata-document client, unless one was recorded after `unlessAfter`. */
  async touchMetadataClient(clientId: string, unlessAfter: Date): Promise<void> {
    await this.db('clients')
      .where({ client_id: clientId })
      .andWhere((q) => q.whereNull('last_used_at').orWhere('last_used_at', '<', unlessAfter))
      .update({ last_used_at: this.db.fn.now() });
  }

  /** Metadata-document clients not presented since `before` go, with their grants (foreign keys cascade). */
  async deleteUnusedMetadataClients(before: Date): Promise<number> {
    return this.db('clients').whereNotNull('metadata_url').andWhere('last_used_at', '<', before).delete();
  }

  async countMetadataClients(): Promise<number> {
    const [row] = await this.db('clients').whereNotNull('metadata_url').count({ n: '*' });
    return Number((row as { n: unknown }).n);
  }

  async update(
    clientId: string,
    patch: Partial<
      Pick<
        ClientRow,
        | 'client_name'
        | 'redirect_uris'
        | 'scopes'
        | 'user_token_flow_enabled'
        | 'secret_hash'
        | 'service_principal'
        | 'grant_types'
      >
    >,
  ): Promise<ClientRow | undefined> {
    const values: Record<string, unknown> = { ...patch };
    if (patch.redirect_uris) values.redirect_uris = JSON.stringify(patch.redirect_uris);
    if (patch.scopes) values.scopes = JSON.stringify(patch.scopes);
    if (patch.grant_types) values.grant_types = JSON.stringify(patch.grant_types);
    const [row] = await this.db('clients').where({ client_id: clientId }).update(values).returning('*');
    return row ? fromDb(row) : undefined;
  }

  async delete(clientId: string): Promise<boolean> {
    // returning() rather than the affected-row count, which knex-pglite did not report as 1 here.
    const rows = await this.db('clients').where({ client_id: clientId }).delete().returning('client_id');
    return rows.length === 1;
  }

  async findByMetadataUrl(url: string): Promise<ClientRow | undefined> {
    const row = await this.db('clients').where({ metadata_url: url }).first();
    return row ? fromDb(row) : undefined;
  }

  /**
   * Creates the row of a metadata-document client, or refreshes what its document says; one
   * statement, so two instances seeing the client first at once end up with one row.
   */
  async upsertByMetadataUrl(row: NewClientRow & { metadata_url: string }): Promise<ClientRow> {
    const [saved] = await this.db('clients')
      .insert({
        ...row,
        redirect_uris: JSON.stringify(row.redirect_uris),
        scopes: JSON.stringify(row.scopes),
        grant_types: JSON.stringify(row.grant_types),
      })
      .onConflict('metadata_url')
      .merge(['client_name', 'redirect_uris', 'grant_types', 'last_used_at'])
      .returning('*');
    return fromDb(saved);
  }

  async insert(row: NewClientRow): Promise<ClientRow> {
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
