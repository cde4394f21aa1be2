import { deleteMemoryTool } from './delete-memory.tool.js';
import { getMemoriesTool } from './get-memories.tool.js';
import { modifyPermissionsTool } from './modify-permissions.tool.js';
import { queryMemoryTool } from './query-memory.tool.js';
import { retrieveMemoriesTool } from './retrieve-memories.tool.js';
import { submitMemoryTool } from './submit-memory.tool.js';
import { updateMemoryTool } from './update-memory.tool.js';
import type { ToolDefinition } from './tool-definition.js';

/** Every tool, served alike over MCP (/mcp) and REST (/api/tools) and described in /openapi.json. */
export const TOOLS: ToolDefinition[] = [
  submitMemoryTool,
  retrieveMemoriesTool,
  queryMemoryTool,
  getMemoriesTool,
  updateMemoryTool,
  deleteMemoryTool,
  modifyPermissionsTool,
] as unknown as ToolDefinition[];

export const toolByName = (name: string): ToolDefinition | undefined => TOOLS.find((t) => t.name === name);
