import { describe, expect, it } from '@jest/globals';
import { MAX_RESOURCE_URI_CHARS, parseSubscribableResource } from './subscribable-resource.js';

const ID = '6F1C8A52-3D0E-4C7B-9A1E-2B5D4F8E9C10';

describe('subscribable resource URIs', () => {
  it('reads memories://{memory_id} and users://{user_id}/memories, ids lower-cased', () => {
    expect(parseSubscribableResource(`memories://${ID}`)).toEqual({
      kind: 'memory',
      memoryId: ID.toLowerCase(),
    });
    expect(parseSubscribableResource(`users://${ID}/memories`)).toEqual({
      kind: 'user-memories',
      userId: ID.toLowerCase(),
    });
  });

  it.each([
    'memories://not-a-uuid',
    `memories://${ID}/`,
    `memories://${ID}?a=1`,
    `memories://${ID}#x`,
    `users://${ID}`,
    `users://${ID}/memories/x`,
    `users://${ID}/other`,
    `http://${ID}`,
    `memories:${ID}`,
    '',
    `memories://${ID}${' '.repeat(MAX_RESOURCE_URI_CHARS)}`,
  ])('refuses %j', (uri) => {
    expect(parseSubscribableResource(uri)).toBeUndefined();
  });
});
