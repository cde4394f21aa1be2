import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startFakeOpenAi, type FakeOpenAi } from '@picard/service-kit/testing';
import { failure, startPersonaStack, userOf, type PersonaStack } from '../integration/harness.js';

/**
 * Issue #11, item 6 (persona part): a persona could name any `model`, and every question to it was
 * then a request for that model, billed to the deployment. Only LLM_MODEL and LLM_ALLOWED_MODELS.
 */
describe('item 6: persona models come from an allow-list in the configuration', () => {
  let stack: PersonaStack;
  let llm: FakeOpenAi;
  beforeAll(async () => {
    llm = await startFakeOpenAi({ reply: () => 'An answer.' });
    stack = await startPersonaStack({
      LLM_BASE_URL: llm.url,
      LLM_API_KEY: 'sk-test',
      LLM_MODEL: 'small-model',
      LLM_ALLOWED_MODELS: 'medium-model',
    });
  });
  afterAll(async () => {
    await stack?.stop();
    await llm?.close();
  });

  it('item 6: an unknown persona model is refused naming `model`; listed ones and the default are used', async () => {
    const u = userOf(stack);
    const refused = await failure(u.persona({ model: 'most-expensive-model' }));
    expect(refused).toMatchObject({ code: 'invalid_argument', field: 'model' });
    expect(refused.message).toMatch(/"small-model", "medium-model"/);

    await u.remember('I grow tomatoes');
    expect((await u.persona({ model: 'medium-model' })).model).toBe('medium-model');
    await u.ask({ userId: u.userId, prompt: 'What do you grow?' });
    expect(llm.chatRequests().at(-1)!.model).toBe('medium-model');

    expect((await u.persona({ model: '' })).model).toBe('small-model');
    await u.ask({ userId: u.userId, prompt: 'What do you grow in the garden?' });
    expect(llm.chatRequests().at(-1)!.model).toBe('small-model');
  });
});
