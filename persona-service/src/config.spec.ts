import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '@picard/service-kit';
import { personaConfigSchema } from './config.js';
import { withInternalKey } from '@picard/service-kit/testing';

describe('persona-service configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig(personaConfigSchema, withInternalKey({}));
    expect(config).toMatchObject({
      PERSONA_GRPC_HOST: '127.0.0.1',
      PERSONA_GRPC_PORT: 50054,
      MEMORY_GRPC_ADDR: '127.0.0.1:50052',
      LLM_TIMEOUT_MS: 30000,
      LLM_MAX_RETRIES: 2,
      PERSONA_REMEMBER_DUPLICATE_SIMILARITY: 0.9,
    });
    expect(config.LLM_BASE_URL).toBeUndefined();
  });

  it.each([
    ['LLM_BASE_URL', 'not a url'],
    ['LLM_BASE_URL', 'ftp://llm.example'],
    ['PERSONA_GRPC_PORT', '70000'],
    ['PERSONA_DATABASE_URL', 'mysql://db/x'],
    ['LLM_TIMEOUT_MS', '0'],
    ['LLM_TIMEOUT_MS', 'soon'],
    ['LLM_MAX_RETRIES', '-1'],
    ['LLM_MAX_RETRIES', '11'],
    ['LLM_MAX_RETRIES', '1.5'],
    ['PERSONA_REMEMBER_DUPLICATE_SIMILARITY', '1.5'],
    ['PERSONA_REMEMBER_DUPLICATE_SIMILARITY', '-0.1'],
    ['PERSONA_REMEMBER_DUPLICATE_SIMILARITY', 'high'],
  ])('names a bad %s', (name, value) => {
    expect(() => loadConfig(personaConfigSchema, withInternalKey({ [name]: value }))).toThrow(ConfigError);
    expect(() => loadConfig(personaConfigSchema, withInternalKey({ [name]: value }))).toThrow(name);
  });

  it('accepts an OpenAI-compatible base URL with a model, timeout and retries', () => {
    const config = loadConfig(
      personaConfigSchema,
      withInternalKey({
        LLM_BASE_URL: 'http://127.0.0.1:11434/v1',
        LLM_MODEL: 'llama3',
        LLM_TIMEOUT_MS: '1500',
        LLM_MAX_RETRIES: '0',
      }),
    );
    expect(config).toMatchObject({
      LLM_BASE_URL: 'http://127.0.0.1:11434/v1',
      LLM_MODEL: 'llama3',
      LLM_TIMEOUT_MS: 1500,
      LLM_MAX_RETRIES: 0,
    });
  });

  it.each([{ LLM_BASE_URL: 'http://127.0.0.1:11434/v1' }, { LLM_API_KEY: 'sk-x' }])(
    'requires LLM_MODEL once an LLM is configured (%o)',
    (env) => {
      expect(() => loadConfig(personaConfigSchema, withInternalKey(env))).toThrow('LLM_MODEL');
    },
  );
});
