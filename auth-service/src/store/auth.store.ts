import { enqueueEvent, type Knex } from '@picard/service-kit';
import type { EventPayload, EventSubject } from '@picard/proto';
import { isTransaction, type Db } from './db.js';
import { UsersStore } from './users.store.js';
import { ClientsStore } from './clients.store.js';
import { TokensStore } from './tokens.store.js';
import { KeysStore } from './keys.store.js';
import { CodesStore } from './codes.store.js';
import { ConsentsStore } from './consents.store.js';

/**
 * All of auth-service's tables behind one handle. `transaction` gives a handle bound to one
 * transaction; the domain must use only that handle inside it (on PGlite a query outside the
 * open transaction would wait forever).
 */
export class AuthStore {
  readonly users: UsersStore;
  readonly clients: ClientsStore;
  readonly tokens: TokensStore;
  readonly keys: KeysStore;
  readonly codes: CodesStore;
  readonly consents: ConsentsStore;

  constructor(
    private readonly db: Db,
    /** Called after a commit that enqueued events, to nudge the outbox relay. */
    private readonly onEventsCommitted: () => void = () => undefined,
  ) {
    this.users = new UsersStore(db);
    this.clients = new ClientsStore(db);
    this.tokens = new TokensStore(db);
    this.keys = new KeysStore(db);
    this.codes = new CodesStore(db);
    this.consents = new ConsentsStore(db);
  }

  private enqueued = false;

  async transaction<T>(fn: (tx: AuthStore) => Promise<T>): Promise<T> {
    if (isTransaction(this.db)) return fn(this);
    let inner: AuthStore | undefined;
    const result = await (this.db as Knex).transaction((trx) => {
      inner = new AuthStore(trx);
      return fn(inner);
    });
    if (inner?.enqueued) this.onEventsCommitted();
    return result;
  }

  /** Records an event in the current transaction (or a transaction of its own). */
  async enqueue<S extends EventSubject>(subject: S, payload: EventPayload<S>): Promise<void> {
    if (!isTransaction(this.db)) return this.transaction((tx) => tx.enqueue(subject, payload));
    await enqueueEvent(this.db, subject, payload);
    this.enqueued = true;
  }
}
