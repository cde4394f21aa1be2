import { memoryPb } from '@picard/proto';
import { notYet, requireCaller, serverStream, unary, type Logger } from '@picard/service-kit';
import type { MemoryService } from '../domain/memory.service.js';
import { listFromPb, memoryToPb, modifyPermissionsFromPb, newMemoryFromPb, updateFromPb } from './memory.codec.js';

/** Decode → domain → encode. Calls of later issues answer UNIMPLEMENTED naming the issue. */
export function memoryHandlers(service: MemoryService, logger: Logger): memoryPb.MemoryServiceServer {
  const later = <Req, Res>(name: string, issue: number) =>
    unary<Req, Res>(logger, name, async () => {
      throw notYet(name, issue);
    });

  return {
    submitMemory: unary<memoryPb.SubmitMemoryRequest, memoryPb.Memory>(logger, 'SubmitMemory', async (req, call) =>
      memoryToPb(await service.submit(requireCaller(call.metadata), newMemoryFromPb(req.memory))),
    ),
    retrieveMemories: unary<memoryPb.RetrieveMemoriesRequest, memoryPb.MemoryPage>(
      logger,
      'RetrieveMemories',
      async (req, call) => {
        const page = await service.retrieve(requireCaller(call.metadata), { limit: req.limit, cursor: req.cursor });
        return { memories: page.items.map(memoryToPb), nextCursor: page.nextCursor };
      },
    ),
    queryMemory: unary<memoryPb.QueryMemoryRequest, memoryPb.QueryMemoryResponse>(logger, 'QueryMemory', async (req, call) => {
      const caller = requireCaller(call.metadata);
      if (req.userId !== undefined || req.permission || req.tags.length || req.minSimilarity !== undefined || req.hybrid) {
        throw notYet('QueryMemory filters (user_id, permission, tags, min_similarity, hybrid)', 4);
      }
      const { items, timings } = await service.query(caller, { query: req.query, limit: req.limit });
      return { memories: items.map(memoryToPb), timings };
    }),
    getMemory: unary<memoryPb.GetMemoryRequest, memoryPb.Memory>(logger, 'GetMemory', async (req, call) =>
      memoryToPb(await service.get(requireCaller(call.metadata), req.memoryId)),
    ),
    deleteMemory: unary<memoryPb.DeleteMemoryRequest, memoryPb.DeleteMemoryResponse>(
      logger,
      'DeleteMemory',
      async (req, call) => ({ memoryId: await service.delete(requireCaller(call.metadata), req.memoryId), deleted: true }),
    ),

    submitMemories: later('SubmitMemories', 4),
    updateMemory: unary<memoryPb.UpdateMemoryRequest, memoryPb.Memory>(logger, 'UpdateMemory', async (req, call) =>
      memoryToPb(await service.update(requireCaller(call.metadata), updateFromPb(req))),
    ),
    deleteMemories: later('DeleteMemories', 4),
    modifyPermissions: unary<memoryPb.ModifyPermissionsRequest, memoryPb.Memory>(logger, 'ModifyPermissions', async (req, call) =>
      memoryToPb(await service.modifyPermissions(requireCaller(call.metadata), modifyPermissionsFromPb(req))),
    ),
    getMemories: unary<memoryPb.GetMemoriesRequest, memoryPb.MemoryPage>(logger, 'GetMemories', async (req, call) => {
      const caller = requireCaller(call.metadata);
      const page = await service.list(caller, listFromPb(req));
      return { memories: page.items.map(memoryToPb), nextCursor: page.nextCursor };
    }),
    exportMemories: later('ExportMemories', 4),
    importMemories: serverStream<memoryPb.ImportMemoriesRequest, memoryPb.ImportMemoriesProgress>(
      logger,
      'ImportMemories',
      async function* () {
        throw notYet('ImportMemories', 4);
      },
    ),
    createGroup: later('CreateGroup', 4),
    renameGroup: later('RenameGroup', 4),
    deleteGroup: later('DeleteGroup', 4),
    addGroupMember: later('AddGroupMember', 4),
    removeGroupMember: later('RemoveGroupMember', 4),
    listGroups: later('ListGroups', 4),
    getActivity: later('GetActivity', 4),
    getAdminSummary: later('GetAdminSummary', 4),
  };
}
