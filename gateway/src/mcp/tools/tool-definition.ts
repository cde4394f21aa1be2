import type { Metadata } from '@grpc/grpc-js';
import type { ToolAnnotations } from '@modelcontextprotocol/server';
import type { Caller } from '@picard/service-kit';
import type { z } from 'zod';
import type { ServiceClients } from '../../clients/service-clients.js';
import type { Scope } from '../../auth/scopes.js';
import type { GatewayConfig } from '../../config.js';

export interface ToolProgress {
  progress: number;
  total?: number;
  message?: string;
}

/** What only some interfaces offer: MCP clients may ask for progress and may cancel a call. */
export interface ToolExtras {
  /** Present when the client asked for progress notifications (MCP `_meta.progressToken`). */
  progress?: (p: ToolProgress) => Promise<void>;
  signal?: AbortSignal;
}

export interface ToolContext extends ToolExtras {
  caller: Caller;
  /** The caller's identity as gRPC metadata, ready to pass on. */
  metadata: Metadata;
  clients: ServiceClients;
}

/**
 * A tool, defined once: its zod schemas are the MCP input/output schemas, the REST validation
 * and the OpenAPI document alike.
 */
export interface ToolDefinition<I extends z.ZodObject = z.ZodObject, O extends z.ZodObject = z.ZodObject> {
  name: string;
  title: string;
  description: string;
  scope: Scope;
  input: I;
  output: O;
  annotations?: ToolAnnotations;
  /**
   * Calls one user may make per window, from the configuration; absent means unlimited. Counted
   * after the input is validated, so only calls that reach a service count.
   */
  rateLimit?: (config: GatewayConfig) => { calls: number; windowSeconds: number };
  run(input: z.infer<I>, ctx: ToolContext): Promise<z.infer<O>>;
}

export const defineTool = <I extends z.ZodObject, O extends z.ZodObject>(tool: ToolDefinition<I, O>) => tool;
