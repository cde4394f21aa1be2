import { afterEach, describe, expect, it } from '@jest/globals';
import { Client } from '@grpc/grpc-js';
import { createServer, type Server } from 'node:net';
import { createGrpcClient } from './grpc-client.js';
import { InternalTokens } from './internal-token.js';

class ProbeClient extends Client {
  static serviceName = 'picard.test.Probe';
}

/** A port that takes connections and drops each at once: a peer that is down, seen by gRPC. */
async function droppingListener(): Promise<{ port: number; attempts: number[]; server: Server }> {
  const attempts: number[] = [];
  const server = createServer((socket) => {
    attempts.push(Date.now());
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as { port: number }).port, attempts, server };
}

describe('createGrpcClient: reconnecting to a service that is down', () => {
  let done: () => void = () => undefined;
  afterEach(() => done());

  it('keeps trying about once a second, so a returning service is called again within a second', async () => {
    const peer = await droppingListener();
    const client = createGrpcClient(
      ProbeClient,
      `127.0.0.1:${peer.port}`,
      new InternalTokens({ key: 'k'.repeat(40), issuer: 'test' }),
    );
    done = () => {
      client.close();
      peer.server.close();
    };
    // Asking for the channel's state with tryToConnect starts connecting, as a first call would.
    client.getChannel().getConnectivityState(true);
    await new Promise((r) => setTimeout(r, 6_000));

    // gRPC's defaults (1 s, growing ×1.6 up to 120 s) make 4 attempts in 6 s with a 2.6 s pause
    // before the fourth; pauses capped at 1 s make at least 7.
    const pauses = peer.attempts.slice(1).map((t, i) => t - peer.attempts[i]!);
    expect(peer.attempts.length).toBeGreaterThanOrEqual(7);
    expect(Math.max(...pauses)).toBeLessThan(1_500);
  }, 15_000);
});
