import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '@picard/service-kit';
import { gatewayConfigSchema } from './config.js';
import { withInternalKey } from '@picard/service-kit/testing';

describe('gateway configuration', () => {
  it('limits lookup_users to 60 calls per user per minute unless told otherwise', () => {
    expect(loadConfig(gatewayConfigSchema, withInternalKey({})).GATEWAY_LOOKUP_USERS_PER_MINUTE).toBe(60);
    expect(
      loadConfig(gatewayConfigSchema, withInternalKey({ GATEWAY_LOOKUP_USERS_PER_MINUTE: '5' }))
        .GATEWAY_LOOKUP_USERS_PER_MINUTE,
    ).toBe(5);
  });

  it.each(['0', '-1', '1.5', 'many'])('names a bad GATEWAY_LOOKUP_USERS_PER_MINUTE (%s)', (value) => {
    const load = () =>
      loadConfig(gatewayConfigSchema, withInternalKey({ GATEWAY_LOOKUP_USERS_PER_MINUTE: value }));
    expect(load).toThrow(ConfigError);
    expect(load).toThrow('GATEWAY_LOOKUP_USERS_PER_MINUTE');
  });

  it('reads GATEWAY_BODY_LIMIT as bytes: 2 MiB by default, express-style sizes otherwise', () => {
    expect(loadConfig(gatewayConfigSchema, withInternalKey({})).GATEWAY_BODY_LIMIT).toBe(2 * 1024 * 1024);
    const read = (v: string) =>
      loadConfig(gatewayConfigSchema, withInternalKey({ GATEWAY_BODY_LIMIT: v })).GATEWAY_BODY_LIMIT;
    expect(read('512kb')).toBe(512 * 1024);
    expect(read(' 4MB ')).toBe(4 * 1024 * 1024);
    expect(read('1.5mb')).toBe(1.5 * 1024 * 1024);
    expect(read('65536')).toBe(65536);
  });

  it.each(['2', '0', '-1mb', 'lots', '2 megabytes', '65mb', '1gb'])(
    'names a bad GATEWAY_BODY_LIMIT (%s)',
    (value) => {
      const load = () => loadConfig(gatewayConfigSchema, withInternalKey({ GATEWAY_BODY_LIMIT: value }));
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(/GATEWAY_BODY_LIMIT.*1kb to 64mb/);
    },
  );

  it('trusts no proxy by default; takes a hop count or addresses, CIDRs and range names', () => {
    const read = (v?: string) =>
      loadConfig(gatewayConfigSchema, withInternalKey({ GATEWAY_TRUST_PROXY: v })).GATEWAY_TRUST_PROXY;
    expect(read()).toBe(false);
    expect(read('false')).toBe(false);
    expect(read('1')).toBe(1);
    expect(read('loopback, 10.0.0.0/8 ,fd00::/8,192.0.2.7')).toEqual([
      'loopback',
      '10.0.0.0/8',
      'fd00::/8',
      '192.0.2.7',
    ]);
  });

  it.each([
    ['true', /GATEWAY_TRUST_PROXY.*must not be true/],
    ['11', /GATEWAY_TRUST_PROXY.*hop count/],
    ['10.0.0.0/99', /GATEWAY_TRUST_PROXY.*"10.0.0.0\/99" is not/],
    ['proxy.example', /GATEWAY_TRUST_PROXY.*"proxy.example" is not/],
  ])('names a bad GATEWAY_TRUST_PROXY (%s)', (value, message) => {
    const load = () => loadConfig(gatewayConfigSchema, withInternalKey({ GATEWAY_TRUST_PROXY: value }));
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(message);
  });

  it('serves MCP statelessly unless MCP_SESSIONS=stateful; session settings have defaults', () => {
    const config = loadConfig(gatewayConfigSchema, withInternalKey({}));
    expect(config.MCP_SESSIONS).toBe('stateless');
    expect(config.MCP_SESSION_TTL_SECONDS).toBe(1800);
    expect(config.MCP_SESSION_EVENT_BUFFER).toBe(100);
    expect(config.MCP_SESSION_MAX_SUBSCRIPTIONS).toBe(100);
    expect(config.MCP_SESSIONS_PER_USER).toBe(16);
    expect(loadConfig(gatewayConfigSchema, withInternalKey({ MCP_SESSIONS: 'stateful' })).MCP_SESSIONS).toBe(
      'stateful',
    );
  });

  it.each([
    ['MCP_SESSIONS', 'sticky', /MCP_SESSIONS.*stateless or stateful/],
    ['MCP_SESSION_TTL_SECONDS', '0', /MCP_SESSION_TTL_SECONDS.*1 to 86400/],
    ['MCP_SESSION_TTL_SECONDS', 'soon', /MCP_SESSION_TTL_SECONDS.*1 to 86400/],
    ['MCP_SESSION_EVENT_BUFFER', '10001', /MCP_SESSION_EVENT_BUFFER.*1 to 10000/],
    ['MCP_SESSION_MAX_SUBSCRIPTIONS', '2.5', /MCP_SESSION_MAX_SUBSCRIPTIONS.*1 to 10000/],
    ['MCP_SESSIONS_PER_USER', '-3', /MCP_SESSIONS_PER_USER.*1 to 1000/],
  ])('names a bad %s (%s)', (name, value, message) => {
    const load = () => loadConfig(gatewayConfigSchema, withInternalKey({ [name]: value }));
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(message);
  });
});
