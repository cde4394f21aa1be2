import { describe, expect, it } from '@jest/globals';
import { memoryPb } from '@picard/proto';
import { DomainError } from '@picard/service-kit';
import { memorySchema, memoryToJson } from './memory.schema.js';

const base: memoryPb.Memory = {
  id: '0190a4b2-7c1e-7000-8000-000000000001',
  userId: '0190a4b2-7c1e-7000-8000-000000000002',
  text: 'the spare key is under the flowerpot',
  permission: memoryPb.Permission.PERMISSION_SHARED,
  expirationDate: undefined,
  createdAt: new Date('2026-12-03T10:00:00Z'),
  updatedAt: new Date('2026-12-03T11:00:00Z'),
  tags: ['home'],
  sharedWith: { users: ['0190a4b2-7c1e-7000-8000-000000000003'], groups: [] },
  embeddingPending: false,
};

describe('memoryToJson: the API shape of a memory', () => {
  it('maps every field, embedding_pending included, and satisfies the published schema', () => {
    for (const embeddingPending of [true, false]) {
      const json = memoryToJson({ ...base, embeddingPending });
      expect(json).toEqual({
        id: base.id,
        user_id: base.userId,
        text: base.text,
        permission: 'shared',
        expiration_date: null,
        created_at: '2026-12-03T10:00:00.000Z',
        updated_at: '2026-12-03T11:00:00.000Z',
        tags: ['home'],
        shared_with: { users: base.sharedWith!.users, groups: [] },
        embedding_pending: embeddingPending,
      });
      expect(memorySchema.parse(json)).toEqual(json);
    }
  });

  it('refuses a permission it does not know instead of inventing one', () => {
    expect(() => memoryToJson({ ...base, permission: 99 as memoryPb.Permission })).toThrow(DomainError);
  });
});
