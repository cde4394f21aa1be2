import { queryMemoryTool } from './query-memory.tool.js';
import { retrieveMemoriesTool } from './retrieve-memories.tool.js';
import { submitMemoryTool } from './submit-memory.tool.js';
import type { ToolDefinition } from './tool-definition.js';

/** Every tool, served alike over MCP (/mcp) and REST (/api/tools) and described in /openapi.json. */
export const TOOLS: ToolDefinition[] = [
  submitMemoryTool,
  retrieveMemoriesTool,
  queryMemoryTool,
] as unknown as ToolDefinition[];

export const toolByName = (name: string): ToolDefinition | undefined => TOOLS.find((t) => t.name === name);
