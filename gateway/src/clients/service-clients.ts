import { authPb, embeddingPb, memoryPb, personaPb } from '@picard/proto';
import { createGrpcClient, createHealthChecker, type InternalTokens } from '@picard/service-kit';

export interface ServiceAddresses {
  auth: string;
  memory: string;
  embedding: string;
  persona: string;
}

/**
 * One channel per internal service, opened once at start-up and shared by every request; each call
 * carries the caller's identity as an internal token signed with `tokens`.
 */
export function createServiceClients(addresses: ServiceAddresses, tokens: InternalTokens) {
  const clients = {
    auth: createGrpcClient(authPb.AuthServiceClient, addresses.auth, tokens),
    memory: createGrpcClient(memoryPb.MemoryServiceClient, addresses.memory, tokens),
    embedding: createGrpcClient(embeddingPb.EmbeddingServiceClient, addresses.embedding, tokens),
    persona: createGrpcClient(personaPb.PersonaServiceClient, addresses.persona, tokens),
  };
  const health = {
    auth: { checker: createHealthChecker(addresses.auth), service: 'picard.v1.AuthService' },
    memory: { checker: createHealthChecker(addresses.memory), service: 'picard.v1.MemoryService' },
    embedding: { checker: createHealthChecker(addresses.embedding), service: 'picard.v1.EmbeddingService' },
    persona: { checker: createHealthChecker(addresses.persona), service: 'picard.v1.PersonaService' },
  };
  return {
    ...clients,
    /** Each service's grpc.health.v1 state, checked in parallel. */
    async healthStates(): Promise<Record<keyof ServiceAddresses, string>> {
      const entries = await Promise.all(
        Object.entries(health).map(async ([name, h]) => [name, await h.checker.check(h.service)] as const),
      );
      return Object.fromEntries(entries) as Record<keyof ServiceAddresses, string>;
    },
    close() {
      for (const c of Object.values(clients)) c.close();
      for (const h of Object.values(health)) h.checker.close();
    },
  };
}

export type ServiceClients = ReturnType<typeof createServiceClients>;
