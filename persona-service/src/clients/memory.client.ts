import { memoryPb } from '@picard/proto';
import {
  callerMetadata,
  callUnary,
  createGrpcClient,
  DomainError,
  type ErrorCode,
  invalid,
  type Caller,
  type InternalTokens,
} from '@picard/service-kit';

const QUERY_TIMEOUT_MS = 10_000;
/** Writes embed their text first; a batch of REMEMBER_MAX_FACTS texts is one embedding call. */
const WRITE_TIMEOUT_MS = 30_000;

/**
 * memory-service as persona-service needs it: search, and the caller's own writes of
 * remember_conversation, always on behalf of the caller.
 */
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

  /** The caller's own memories nearest in meaning to `text` (vector search: similarity is cosine). */
  async nearestOwn(
    caller: Caller,
    req: { text: string; limit: number; minSimilarity?: number },
  ): Promise<memoryPb.Memory[]> {
    const c = this.client;
    const res = await callUnary(
      c.queryMemory.bind(c),
      {
        query: req.text,
        limit: req.limit,
        // The owner filter: only the caller's own memories, never others' public or shared ones.
        userId: caller.userId,
        permission: 0,
        tags: [],
        anyTags: [],
        minSimilarity: req.minSimilarity,
        hybrid: false,
        mode: memoryPb.SearchMode.SEARCH_MODE_VECTOR,
      },
      callerMetadata(caller),
      QUERY_TIMEOUT_MS,
    );
    return res.memories;
  }

  async submit(caller: Caller, memory: memoryPb.NewMemory): Promise<memoryPb.Memory> {
    const c = this.client;
    return callUnary(c.submitMemory.bind(c), { memory }, callerMetadata(caller), WRITE_TIMEOUT_MS);
  }

  /** All or nothing: memory-service stores every memory or none; the first item error is thrown. */
  async submitAll(caller: Caller, memories: memoryPb.NewMemory[]): Promise<memoryPb.Memory[]> {
    if (!memories.length) return [];
    const c = this.client;
    const res = await callUnary(
      c.submitMemories.bind(c),
      { memories, validateOnly: false },
      callerMetadata(caller),
      WRITE_TIMEOUT_MS,
    );
    throwFirst(res.errors);
    return res.memories;
  }

  /**
   * Refuses, as a write of them would, memories that memory-service would not store (permission and
   * shares, tags, text), writing and embedding nothing; `field` maps an item's field to the caller's.
   */
  async checkNew(
    caller: Caller,
    memories: memoryPb.NewMemory[],
    field: (index: number, field: string) => string,
  ): Promise<void> {
    const c = this.client;
    const res = await callUnary(
      c.submitMemories.bind(c),
      { memories, validateOnly: true },
      callerMetadata(caller),
      QUERY_TIMEOUT_MS,
    );
    throwFirst(res.errors, field);
  }

  /** Replaces the text, refused with `conflict` when the memory changed since `expectedUpdatedAt`. */
  async updateText(
    caller: Caller,
    req: { memoryId: string; text: string; expectedUpdatedAt?: Date },
  ): Promise<memoryPb.Memory> {
    const c = this.client;
    return callUnary(
      c.updateMemory.bind(c),
      {
        memoryId: req.memoryId,
        text: req.text,
        tags: [],
        replaceTags: false,
        clearExpirationDate: false,
        expectedUpdatedAt: req.expectedUpdatedAt,
      },
      callerMetadata(caller),
      WRITE_TIMEOUT_MS,
    );
  }

  close(): void {
    this.client.close();
  }
}

/** The first item error of a batch as a DomainError, its field renamed by `field`. */
function throwFirst(
  errors: memoryPb.ItemError[],
  field: (index: number, field: string) => string = (i, f) => `memories[${i}].${f}`,
): void {
  const first = errors[0];
  if (!first) return;
  // memory-service prefixes each item's field with "memories[i]."; the caller knows its own names.
  const own = first.field.replace(/^memories\[\d+\]\.?/, '');
  const renamed = own ? field(first.index, own) : undefined;
  throw new DomainError(first.code as ErrorCode, first.message, renamed);
}
