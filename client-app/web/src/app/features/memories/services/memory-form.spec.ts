import { describe, expect, it } from '@jest/globals';
import { memory } from '../../../../testing/helpers';
import {
  buildEdit,
  buildSubmit,
  emptyDraft,
  fromLocalInput,
  toLocalInput,
  validateDraft,
} from './memory-form';

const NOW = new Date('2026-06-01T12:00:00Z');

describe('validateDraft', () => {
  it('needs text', () => {
    expect(validateDraft({ ...emptyDraft(), text: '   ' }, NOW)).toMatchObject({ field: 'text' });
  });

  it('bounds the text at 10,000 characters', () => {
    expect(validateDraft({ ...emptyDraft(), text: 'x'.repeat(10_000) }, NOW)).toBeNull();
    expect(validateDraft({ ...emptyDraft(), text: 'x'.repeat(10_001) }, NOW)?.message).toContain('10,001');
  });

  it('bounds tags', () => {
    const tags = Array.from({ length: 21 }, (_, i) => `t${i}`);
    expect(validateDraft({ ...emptyDraft(), text: 'a', tags }, NOW)).toMatchObject({ field: 'tags' });
    expect(validateDraft({ ...emptyDraft(), text: 'a', tags: ['y'.repeat(65)] }, NOW)).toMatchObject({
      field: 'tags',
    });
  });

  it('wants the expiry in the future', () => {
    expect(validateDraft({ ...emptyDraft(), text: 'a', expiry: '2020-01-01T10:00' }, NOW)).toMatchObject({
      field: 'expiration_date',
    });
    expect(validateDraft({ ...emptyDraft(), text: 'a', expiry: '2030-01-01T10:00' }, NOW)).toBeNull();
  });

  it('wants someone to share a shared memory with', () => {
    const shared = { ...emptyDraft(), text: 'a', permission: 'shared' as const };
    expect(validateDraft(shared, NOW)).toMatchObject({ field: 'shared_with' });
    expect(validateDraft({ ...shared, groupIds: ['g1'] }, NOW)).toBeNull();
    expect(validateDraft({ ...shared, users: [{ user_id: 'u1', username: 'bob' }] }, NOW)).toBeNull();
  });
});

describe('buildSubmit', () => {
  it('sends only what was given', () => {
    expect(buildSubmit({ ...emptyDraft(), text: 'Hello' })).toEqual({ text: 'Hello', permission: 'private' });
  });

  it('carries tags, expiry (as ISO) and the people and groups of a shared memory', () => {
    const input = buildSubmit({
      text: 'Plan',
      permission: 'shared',
      tags: ['trip', 'lisbon'],
      expiry: '2030-05-06T07:08',
      users: [{ user_id: 'u-bob', username: 'bob' }],
      groupIds: ['g-1'],
    });
    expect(input).toEqual({
      text: 'Plan',
      permission: 'shared',
      tags: ['trip', 'lisbon'],
      expiration_date: new Date('2030-05-06T07:08').toISOString(),
      shared_with: { users: ['u-bob'], groups: ['g-1'] },
    });
  });
});

describe('buildEdit', () => {
  const original = memory({
    id: 'm1',
    text: 'Old',
    tags: ['a'],
    expiration_date: '2030-01-01T00:00:00.000Z',
    permission: 'shared',
    shared_with: { users: ['u-bob'], groups: [] },
  });
  const same = {
    text: 'Old',
    permission: 'shared' as const,
    tags: ['a'],
    expiry: toLocalInput('2030-01-01T00:00:00.000Z'),
    users: [{ user_id: 'u-bob', username: 'bob' }],
    groupIds: [],
  };

  it('calls nothing when nothing changed', () => {
    expect(buildEdit(original, same)).toEqual({ update: null, permissions: null });
  });

  it('updates only what changed, and clears an expiry with null', () => {
    const { update, permissions } = buildEdit(original, { ...same, text: 'New', expiry: '' });
    expect(update).toEqual({ memory_id: 'm1', text: 'New', expiration_date: null });
    expect(permissions).toBeNull();
  });

  it('modifies permissions when the people change', () => {
    const { update, permissions } = buildEdit(original, {
      ...same,
      users: [{ user_id: 'u-carol', username: 'carol' }],
      groupIds: ['g-9'],
    });
    expect(update).toBeNull();
    expect(permissions).toEqual({
      memory_id: 'm1',
      permission: 'shared',
      shared_with: { users: ['u-carol'], groups: ['g-9'] },
    });
  });

  it('modifies permissions without shared_with when made public', () => {
    expect(buildEdit(original, { ...same, permission: 'public' }).permissions).toEqual({
      memory_id: 'm1',
      permission: 'public',
    });
  });

  it('round-trips datetime-local values', () => {
    expect(fromLocalInput(toLocalInput('2030-03-04T05:06:00.000Z'))).toBe('2030-03-04T05:06:00.000Z');
  });
});
