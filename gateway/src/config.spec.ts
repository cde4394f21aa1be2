import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '@picard/service-kit';
import { gatewayConfigSchema } from './config.js';

describe('gateway configuration', () => {
  it('limits lookup_users to 60 calls per user per minute unless told otherwise', () => {
    expect(loadConfig(gatewayConfigSchema, {}).GATEWAY_LOOKUP_USERS_PER_MINUTE).toBe(60);
    expect(
      loadConfig(gatewayConfigSchema, { GATEWAY_LOOKUP_USERS_PER_MINUTE: '5' })
        .GATEWAY_LOOKUP_USERS_PER_MINUTE,
    ).toBe(5);
  });

  it.each(['0', '-1', '1.5', 'many'])('names a bad GATEWAY_LOOKUP_USERS_PER_MINUTE (%s)', (value) => {
    const load = () => loadConfig(gatewayConfigSchema, { GATEWAY_LOOKUP_USERS_PER_MINUTE: value });
    expect(load).toThrow(ConfigError);
    expect(load).toThrow('GATEWAY_LOOKUP_USERS_PER_MINUTE');
  });
});
