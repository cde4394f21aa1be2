import { describe, expect, it } from '@jest/globals';
import { ConfigError, loadConfig } from '@picard/service-kit';
import { withInternalKey } from '@picard/service-kit/testing';
import { embeddingConfigSchema } from './config.js';

describe('embedding-service configuration', () => {
  const load = (env: Record<string, string>) => loadConfig(embeddingConfigSchema, withInternalKey(env));

  it('runs the offline model on two worker threads unless told one', () => {
    expect(load({}).EMBEDDING_OFFLINE_WORKERS).toBe(2);
    expect(load({ EMBEDDING_OFFLINE_WORKERS: '' }).EMBEDDING_OFFLINE_WORKERS).toBe(2);
    expect(load({ EMBEDDING_OFFLINE_WORKERS: '1' }).EMBEDDING_OFFLINE_WORKERS).toBe(1);
  });

  it.each(['0', '3', '1.5', 'two'])('names a bad EMBEDDING_OFFLINE_WORKERS (%s)', (value) => {
    const bad = () => load({ EMBEDDING_OFFLINE_WORKERS: value });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/EMBEDDING_OFFLINE_WORKERS.*must be 1 or 2/);
  });

  it('runs the model threads at nice 10 unless told; 0 keeps the process priority', () => {
    expect(load({}).EMBEDDING_OFFLINE_NICE).toBe(10);
    expect(load({ EMBEDDING_OFFLINE_NICE: '' }).EMBEDDING_OFFLINE_NICE).toBe(10);
    expect(load({ EMBEDDING_OFFLINE_NICE: '0' }).EMBEDDING_OFFLINE_NICE).toBe(0);
    expect(load({ EMBEDDING_OFFLINE_NICE: '19' }).EMBEDDING_OFFLINE_NICE).toBe(19);
  });

  it.each(['-1', '20', '2.5', 'low'])('names a bad EMBEDDING_OFFLINE_NICE (%s)', (value) => {
    const bad = () => load({ EMBEDDING_OFFLINE_NICE: value });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/EMBEDDING_OFFLINE_NICE.*from 0 to 19/);
  });

  it('uses OpenBLAS for the model when it can unless told off', () => {
    expect(load({}).EMBEDDING_OFFLINE_BLAS).toBe('auto');
    expect(load({ EMBEDDING_OFFLINE_BLAS: '' }).EMBEDDING_OFFLINE_BLAS).toBe('auto');
    expect(load({ EMBEDDING_OFFLINE_BLAS: 'off' }).EMBEDDING_OFFLINE_BLAS).toBe('off');
  });

  it.each(['on', 'false', 'OFF'])('names a bad EMBEDDING_OFFLINE_BLAS (%s)', (value) => {
    const bad = () => load({ EMBEDDING_OFFLINE_BLAS: value });
    expect(bad).toThrow(ConfigError);
    expect(bad).toThrow(/EMBEDDING_OFFLINE_BLAS.*must be auto or off/);
  });
});
