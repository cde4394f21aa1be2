import { memoryPb } from '@picard/proto';
import {
  callerMetadata,
  callUnary,
  createGrpcClient,
  DomainError,
  invalid,
  type Caller,
  type InternalTokens,
} from '@picard/service-kit';

const QUERY_TIMEOUT_MS = 10_000;

/** memory-service as persona-service needs it: semantic search on behalf of the caller. */
export class MemoryClient {
  private readonly client: memoryPb.MemoryServiceClient;

  /** `tokens` signs the caller's identity on each query (memory-service believes nothing else). */
  constructor(address: string, tokens: InternalTokens) {
    // grpc-js connects lazily, so persona-service starts even while memory-service is still coming up.
    this.client = createGrpcClient(memoryPb.MemoryServiceClient, address, tokens);
  }

  /**
   * Searches as the CALLER (their identity goes along), so memory-service applies its visibility
   * rule to them; `userId` narrows the search to the persona owner's memories.
   */
  async query(
    caller: Caller,
    req: { query: string; userId: string; limit: number; anyTags?: string[] },
  ): Promise<memoryPb.Memory[]> {
    const c = this.client;
    try {
      const res = await callUnary(
        c.queryMemory.bind(c),
        {
          query: req.query,
          limit: req.limit,
          userId: req.userId,
          permission: 0,
          tags: [],
          anyTags: req.anyTags ?? [],
          hybrid: false,
          mode: memoryPb.SearchMode.SEARCH_MODE_UNSPECIFIED,
        },
        callerMetadata(caller),
        QUERY_TIMEOUT_MS,
      );
      return res.memories;
    } catch (err) {
      // memory-service names its own field; our caller sent `prompt`.
      if (err instanceof DomainError && err.field === 'query')
        throw invalid('prompt', err.message.replace(/query/g, 'prompt'));
      throw err;
    }
  }

  close(): void {
    this.client.close();
  }
}
