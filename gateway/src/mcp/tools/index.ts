import { addGroupMemberTool } from './add-group-member.tool.js';
import { createGroupTool } from './create-group.tool.js';
import { deleteGroupTool } from './delete-group.tool.js';
import { deleteMemoriesTool } from './delete-memories.tool.js';
import { deleteMemoryTool } from './delete-memory.tool.js';
import { exportMemoriesTool } from './export-memories.tool.js';
import { getActivityTool } from './get-activity.tool.js';
import { getMemoriesTool } from './get-memories.tool.js';
import { getMemoryHistoryTool } from './get-memory-history.tool.js';
import { getMemoryTool } from './get-memory.tool.js';
import { getPersonaTool } from './get-persona.tool.js';
import { importMemoriesTool } from './import-memories.tool.js';
import { listGroupsTool } from './list-groups.tool.js';
import { listPersonasTool } from './list-personas.tool.js';
import { lookupUsersTool } from './lookup-users.tool.js';
import { modifyPermissionsTool } from './modify-permissions.tool.js';
import { queryMemoryTool } from './query-memory.tool.js';
import { queryUserTool } from './query-user.tool.js';
import { rememberConversationTool } from './remember-conversation.tool.js';
import { removeGroupMemberTool } from './remove-group-member.tool.js';
import { renameGroupTool } from './rename-group.tool.js';
import { restoreMemoryTool } from './restore-memory.tool.js';
import { retrieveMemoriesTool } from './retrieve-memories.tool.js';
import { submitMemoriesTool } from './submit-memories.tool.js';
import { submitMemoryTool } from './submit-memory.tool.js';
import { updateMemoryTool } from './update-memory.tool.js';
import { updatePersonaTool } from './update-persona.tool.js';
import type { ToolDefinition } from './tool-definition.js';

/** Every tool, served alike over MCP (/mcp) and REST (/api/tools) and described in /openapi.json. */
export const TOOLS: ToolDefinition[] = [
  submitMemoryTool,
  retrieveMemoriesTool,
  queryMemoryTool,
  getMemoriesTool,
  getMemoryTool,
  updateMemoryTool,
  deleteMemoryTool,
  modifyPermissionsTool,
  getMemoryHistoryTool,
  restoreMemoryTool,
  submitMemoriesTool,
  deleteMemoriesTool,
  exportMemoriesTool,
  importMemoriesTool,
  createGroupTool,
  renameGroupTool,
  deleteGroupTool,
  addGroupMemberTool,
  removeGroupMemberTool,
  listGroupsTool,
  getActivityTool,
  getPersonaTool,
  updatePersonaTool,
  listPersonasTool,
  queryUserTool,
  rememberConversationTool,
  lookupUsersTool,
] as unknown as ToolDefinition[];

export const toolByName = (name: string): ToolDefinition | undefined => TOOLS.find((t) => t.name === name);
