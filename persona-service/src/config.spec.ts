import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '@picard/service-kit';
import { personaConfigSchema } from './config.js';

describe('persona-service configuration', () => {
  it('has working defaults', () => {
    const config = loadConfig(personaConfigSchema, {});
    expect(config).toMatchObject({
      PERSONA_GRPC_HOST: '0.0.0.0',
      PERSONA_GRPC_PORT: 50054,
      MEMORY_GRPC_ADDR: '127.0.0.1:50052',
    });
    expect(config.LLM_BASE_URL).toBeUndefined();
  });

  it.each([
    ['LLM_BASE_URL', 'not a url'],
    ['LLM_BASE_URL', 'ftp://llm.example'],
    ['PERSONA_GRPC_PORT', '70000'],
    ['PERSONA_DATABASE_URL', 'mysql://db/x'],
  ])('names a bad %s', (name, value) => {
    expect(() => loadConfig(personaConfigSchema, { [name]: value })).toThrow(ConfigError);
    expect(() => loadConfig(personaConfigSchema, { [name]: value })).toThrow(name);
  });

  it('accepts an OpenAI-compatible base URL', () => {
    expect(loadConfig(personaConfigSchema, { LLM_BASE_URL: 'http://127.0.0.1:11434/v1' }).LLM_BASE_URL).toBe(
      'http://127.0.0.1:11434/v1',
    );
  });
});
