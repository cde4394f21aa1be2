import type { Knex, Migration } from '@picard/service-kit';

/**
 * Each keyword posting carries its memory's owner and whether the memory is private, so a search
 * scores only the postings the viewer may see (its own, and other users' that are not private)
 * instead of every user's and filtering afterwards: the work follows what one user can see, not the
 * whole corpus. The search still applies the visibility rule to what it returns, so the flag only
 * narrows. A trigger keeps the flag in step with every change of a memory's permission, whatever
 * code path makes it; owners never change.
 */
export const visiblePostings: Migration = {
  name: '011_visible_postings',
  async up(knex: Knex) {
    await knex.raw('ALTER TABLE memory_terms ADD COLUMN user_id uuid, ADD COLUMN private boolean');
    await knex.raw(
      `UPDATE memory_terms t SET user_id = m.user_id, private = (m.permission = 'private')
         FROM memories m WHERE m.id = t.memory_id`,
    );
    await knex.raw(
      'ALTER TABLE memory_terms ALTER COLUMN user_id SET NOT NULL, ALTER COLUMN private SET NOT NULL',
    );
    await knex.raw(
      'CREATE INDEX memory_terms_owner_idx ON memory_terms (term, user_id) INCLUDE (memory_id, tf, dl)',
    );
    await knex.raw(
      'CREATE INDEX memory_terms_open_idx ON memory_terms (term) INCLUDE (memory_id, tf, dl, user_id) WHERE NOT private',
    );
    // SET search_path FROM CURRENT: the function finds this schema's memory_terms whatever the
    // calling session's path.
    await knex.raw(
      `CREATE FUNCTION memory_terms_follow_permission() RETURNS trigger LANGUAGE plpgsql
         SET search_path FROM CURRENT AS $$
       BEGIN
         UPDATE memory_terms SET private = (NEW.permission = 'private') WHERE memory_id = NEW.id;
         RETURN NULL;
       END $$`,
    );
    await knex.raw(
      `CREATE TRIGGER memory_terms_follow_permission AFTER UPDATE OF permission ON memories
         FOR EACH ROW WHEN ((OLD.permission = 'private') IS DISTINCT FROM (NEW.permission = 'private'))
         EXECUTE FUNCTION memory_terms_follow_permission()`,
    );
  },
};
