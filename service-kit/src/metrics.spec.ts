import { describe, expect, it } from '@jest/globals';
import { createLogger } from './logger.js';
import { watchQueue } from './metrics.js';
import { mayScrape, startMetricsServer } from './metrics-server.js';

describe('metrics endpoint', () => {
  it('without METRICS_TOKEN only loopback may scrape; with it, only its bearers', () => {
    expect(mayScrape(undefined, '127.0.0.1')).toBe(true);
    expect(mayScrape(undefined, '::ffff:127.0.0.1')).toBe(true);
    expect(mayScrape(undefined, '10.0.0.7')).toBe(false);
    expect(mayScrape('Bearer s3cret-token', '10.0.0.7', 's3cret-token')).toBe(true);
    expect(mayScrape('Bearer wrong', '127.0.0.1', 's3cret-token')).toBe(false);
    expect(mayScrape(undefined, '127.0.0.1', 's3cret-token')).toBe(false);
  });

  it('a standalone service serves /metrics on its own port, token-checked', async () => {
    const stop = watchQueue('test-provider', () => 3);
    const server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      token: 'scrape-token',
      logger: createLogger('test', 'silent'),
    });
    try {
      const url = `http://127.0.0.1:${server.port}`;
      expect((await fetch(`${url}/metrics`)).status).toBe(401);
      const ok = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer scrape-token' } });
      expect(ok.status).toBe(200);
      expect(await ok.text()).toMatch(/^picard_embedding_queue_depth\{provider="test-provider"\} 3$/m);
      expect(
        (await fetch(`${url}/other`, { headers: { authorization: 'Bearer scrape-token' } })).status,
      ).toBe(404);
    } finally {
      stop();
      await server.close();
    }
  });
});
