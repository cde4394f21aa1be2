import { DomainError, type Knex } from '@picard/service-kit';

export interface GroupRow {
  id: string;
  ownerId: string;
  name: string;
  memberIds: string[];
  createdAt: Date;
}

const UNIQUE_VIOLATION = '23505';

/** Groups and their members; the only place with SQL for them. A group's owner is always a member. */
export class GroupStore {
  constructor(readonly knex: Knex) {}

  async create(row: { id: string; ownerId: string; name: string }): Promise<GroupRow> {
    return this.knex
      .transaction(async (trx) => {
        await trx('groups').insert({ id: row.id, owner_id: row.ownerId, name: row.name });
        await trx('group_members').insert({ group_id: row.id, user_id: row.ownerId });
        return (await this.load(trx, [row.id]))[0]!;
      })
      .catch((err: unknown) => rethrowDuplicateName(err, row.name));
  }

  async countOwned(ownerId: string): Promise<number> {
    const rows = (await this.knex('groups').where({ owner_id: ownerId }).count({ count: '*' })) as {
      count: string;
    }[];
    return Number(rows[0]?.count ?? 0);
  }

  /** A group as its owner or a member sees it; undefined for anyone else (the group does not exist to them). */
  async findVisible(userId: string, groupId: string): Promise<GroupRow | undefined> {
    const row = await this.knex('groups as g')
      .select('g.id')
      .where('g.id', groupId)
      .whereExists((q) =>
        q
          .select(this.knex.raw('1'))
          .from('group_members as gm')
          .whereRaw('gm.group_id = g.id')
          .where('gm.user_id', userId),
      )
      .first<{ id: string } | undefined>();
    return row ? (await this.load(this.knex, [row.id]))[0] : undefined;
  }

  async rename(groupId: string, name: string): Promise<GroupRow> {
    await this.knex('groups')
      .where({ id: groupId })
      .update({ name })
      .catch((err: unknown) => rethrowDuplicateName(err, name));
    return (await this.load(this.knex, [groupId]))[0]!;
  }

  /** Removes the group, its members and every share naming it, in one transaction. */
  async delete(groupId: string): Promise<void> {
    await this.knex.transaction(async (trx) => {
      await trx('memory_shares').where({ principal_type: 'group', principal_id: groupId }).delete();
      await trx('groups').where({ id: groupId }).delete();
    });
  }

  async addMember(groupId: string, userId: string): Promise<GroupRow> {
    await this.knex('group_members')
      .insert({ group_id: groupId, user_id: userId })
      .onConflict(['group_id', 'user_id'])
      .ignore();
    return (await this.load(this.knex, [groupId]))[0]!;
  }

  async removeMember(groupId: string, userId: string): Promise<GroupRow> {
    await this.knex('group_members').where({ group_id: groupId, user_id: userId }).delete();
    return (await this.load(this.knex, [groupId]))[0]!;
  }

  /** Every group the user owns or belongs to, by name. */
  async listFor(userId: string): Promise<GroupRow[]> {
    const ids: string[] = await this.knex('group_members').where({ user_id: userId }).pluck('group_id');
    return (await this.load(this.knex, ids)).sort(
      (a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id),
    );
  }

  /** Ids of the groups the user belongs to (owners are members), for the pure visibility check. */
  async groupIdsOf(userId: string): Promise<string[]> {
    return this.knex('group_members').where({ user_id: userId }).pluck('group_id');
  }

  private async load(db: Knex | Knex.Transaction, ids: string[]): Promise<GroupRow[]> {
    if (ids.length === 0) return [];
    const groups: { id: string; owner_id: string; name: string; created_at: Date | string }[] = await db(
      'groups',
    )
      .select('id', 'owner_id', 'name', 'created_at')
      .whereIn('id', ids);
    const members: { group_id: string; user_id: string }[] = await db('group_members')
      .select('group_id', 'user_id')
      .whereIn('group_id', ids)
      .orderBy('user_id');
    return groups.map((g) => ({
      id: g.id,
      ownerId: g.owner_id,
      name: g.name,
      memberIds: members.filter((m) => m.group_id === g.id).map((m) => m.user_id),
      createdAt: g.created_at instanceof Date ? g.created_at : new Date(g.created_at),
    }));
  }
}

function rethrowDuplicateName(err: unknown, name: string): never {
  if ((err as { code?: string }).code === UNIQUE_VIOLATION) {
    throw new DomainError('already_exists', `you already have a group named "${name}"`, 'name');
  }
  throw err;
}
