import { memoryPb } from '@picard/proto';
import { requireCaller, serverStream, unary, type Logger } from '@picard/service-kit';
import type { ActivityService } from '../domain/activity.js';
import type { GroupService } from '../domain/group.service.js';
import type { MemoryBatchService } from '../domain/memory-batch.service.js';
import type { MemoryHistoryService } from '../domain/memory-history.service.js';
import type { MemoryService } from '../domain/memory.service.js';
import type { TransferService } from '../domain/transfer.service.js';
import {
  groupToPb,
  itemErrorToPb,
  listFromPb,
  memoryToPb,
  modifyPermissionsFromPb,
  newMemoryFromPb,
  queryFromPb,
  versionToPb,
} from './memory.codec.js';

export interface MemoryDomain {
  memories: MemoryService;
  history: MemoryHistoryService;
  batch: MemoryBatchService;
  groups: GroupService;
  activity: ActivityService;
  transfer: TransferService;
}

/** Decode → domain → encode. */
export function memoryHandlers(domain: MemoryDomain, logger: Logger): memoryPb.MemoryServiceServer {
  const { memories: service, history, batch, groups, activity, transfer } = domain;

  return {
    submitMemory: unary<memoryPb.SubmitMemoryRequest, memoryPb.Memory>(
      logger,
      'SubmitMemory',
      async (req, call) =>
        memoryToPb(await service.submit(requireCaller(call.metadata), newMemoryFromPb(req.memory))),
    ),
    retrieveMemories: unary<memoryPb.RetrieveMemoriesRequest, memoryPb.MemoryPage>(
      logger,
      'RetrieveMemories',
      async (req, call) => {
        const page = await service.retrieve(requireCaller(call.metadata), req);
        return { memories: page.items.map(memoryToPb), nextCursor: page.nextCursor };
      },
    ),
    queryMemory: unary<memoryPb.QueryMemoryRequest, memoryPb.QueryMemoryResponse>(
      logger,
      'QueryMemory',
      async (req, call) => {
        const { items, timings } = await service.query(requireCaller(call.metadata), queryFromPb(req));
        return { memories: items.map(memoryToPb), timings };
      },
    ),
    getMemory: unary<memoryPb.GetMemoryRequest, memoryPb.Memory>(logger, 'GetMemory', async (req, call) =>
      memoryToPb(await service.get(requireCaller(call.metadata), req.memoryId)),
    ),
    deleteMemory: unary<memoryPb.DeleteMemoryRequest, memoryPb.DeleteMemoryResponse>(
      logger,
      'DeleteMemory',
      async (req, call) => ({
        memoryId: await service.delete(requireCaller(call.metadata), req.memoryId),
        deleted: true,
      }),
    ),
    submitMemories: unary<memoryPb.SubmitMemoriesRequest, memoryPb.SubmitMemoriesResponse>(
      logger,
      'SubmitMemories',
      async (req, call) => {
        const res = await batch.submitMany(requireCaller(call.metadata), req.memories.map(newMemoryFromPb), {
          validateOnly: req.validateOnly,
        });
        return res.ok
          ? { memories: res.items.map(memoryToPb), errors: [] }
          : { memories: [], errors: res.errors.map(itemErrorToPb) };
      },
    ),
    updateMemory: unary<memoryPb.UpdateMemoryRequest, memoryPb.Memory>(
      logger,
      'UpdateMemory',
      async (req, call) => memoryToPb(await service.update(requireCaller(call.metadata), req)),
    ),
    deleteMemories: unary<memoryPb.DeleteMemoriesRequest, memoryPb.DeleteMemoriesResponse>(
      logger,
      'DeleteMemories',
      async (req, call) => {
        const res = await batch.deleteMany(requireCaller(call.metadata), req.memoryIds);
        return res.ok
          ? { deletedIds: res.items, errors: [] }
          : { deletedIds: [], errors: res.errors.map(itemErrorToPb) };
      },
    ),
    modifyPermissions: unary<memoryPb.ModifyPermissionsRequest, memoryPb.Memory>(
      logger,
      'ModifyPermissions',
      async (req, call) =>
        memoryToPb(
          await service.modifyPermissions(requireCaller(call.metadata), modifyPermissionsFromPb(req)),
        ),
    ),
    getMemories: unary<memoryPb.GetMemoriesRequest, memoryPb.MemoryPage>(
      logger,
      'GetMemories',
      async (req, call) => {
        const page = await service.list(requireCaller(call.metadata), listFromPb(req));
        return { memories: page.items.map(memoryToPb), nextCursor: page.nextCursor };
      },
    ),
    exportMemories: unary<memoryPb.ExportMemoriesRequest, memoryPb.ExportMemoriesResponse>(
      logger,
      'ExportMemories',
      async (req, call) => transfer.export(requireCaller(call.metadata), req.format, req.includeHistory),
    ),
    getMemoryHistory: unary<memoryPb.GetMemoryHistoryRequest, memoryPb.MemoryHistoryPage>(
      logger,
      'GetMemoryHistory',
      async (req, call) => {
        const page = await history.page(requireCaller(call.metadata), req);
        return {
          memoryId: page.memoryId,
          currentVersion: page.currentVersion,
          versions: page.versions.map(versionToPb),
          nextCursor: page.nextCursor,
        };
      },
    ),
    restoreMemory: unary<memoryPb.RestoreMemoryRequest, memoryPb.Memory>(
      logger,
      'RestoreMemory',
      async (req, call) => memoryToPb(await history.restore(requireCaller(call.metadata), req)),
    ),
    importMemories: serverStream<memoryPb.ImportMemoriesRequest, memoryPb.ImportMemoriesProgress>(
      logger,
      'ImportMemories',
      async function* (req, call) {
        for await (const p of transfer.import(
          requireCaller(call.metadata),
          req.format,
          req.data,
          req.importId,
        )) {
          yield { ...p, errors: p.errors.map(itemErrorToPb) };
        }
      },
    ),
    createGroup: unary<memoryPb.CreateGroupRequest, memoryPb.Group>(
      logger,
      'CreateGroup',
      async (req, call) => groupToPb(await groups.create(requireCaller(call.metadata), req.name)),
    ),
    renameGroup: unary<memoryPb.RenameGroupRequest, memoryPb.Group>(
      logger,
      'RenameGroup',
      async (req, call) =>
        groupToPb(await groups.rename(requireCaller(call.metadata), req.groupId, req.name)),
    ),
    deleteGroup: unary<memoryPb.DeleteGroupRequest, memoryPb.DeleteGroupResponse>(
      logger,
      'DeleteGroup',
      async (req, call) => ({
        groupId: await groups.delete(requireCaller(call.metadata), req.groupId),
        deleted: true,
      }),
    ),
    addGroupMember: unary<memoryPb.GroupMemberRequest, memoryPb.Group>(
      logger,
      'AddGroupMember',
      async (req, call) =>
        groupToPb(await groups.addMember(requireCaller(call.metadata), req.groupId, req.userId)),
    ),
    removeGroupMember: unary<memoryPb.GroupMemberRequest, memoryPb.Group>(
      logger,
      'RemoveGroupMember',
      async (req, call) =>
        groupToPb(await groups.removeMember(requireCaller(call.metadata), req.groupId, req.userId)),
    ),
    listGroups: unary<memoryPb.ListGroupsRequest, memoryPb.ListGroupsResponse>(
      logger,
      'ListGroups',
      async (_req, call) => ({
        groups: (await groups.list(requireCaller(call.metadata))).map(groupToPb),
      }),
    ),
    getActivity: unary<memoryPb.GetActivityRequest, memoryPb.Activity>(
      logger,
      'GetActivity',
      async (req, call) => {
        const a = await activity.forUser(requireCaller(call.metadata), req.userId);
        return {
          userId: a.userId,
          memoriesByPermission: a.memoriesByPermission,
          searches: a.searches,
          lastActivity: a.lastActivity ?? undefined,
          searchesByDay: a.searchesByDay,
        };
      },
    ),
    getAdminSummary: unary<memoryPb.GetAdminSummaryRequest, memoryPb.AdminSummary>(
      logger,
      'GetAdminSummary',
      async (_req, call) => activity.summary(requireCaller(call.metadata)),
    ),
  };
}
