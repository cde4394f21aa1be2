/**
 * Tool input and result types for POST /bff/tools/{tool}. Every tool the gateway's OpenAPI document
 * already describes comes from the contract (ToolInput / ToolResult); the two tools still being added
 * (`list_personas`, `lookup_users`) fall back to the shapes below until picard-api.ts is regenerated,
 * after which the conditional type picks the generated ones by itself.
 */
import type { ForwardedTool, Persona, ToolInput, ToolName, ToolResult } from '@contract/bff-api';

/** One account as lookup_users names it (never an email). */
export interface UserRef {
  user_id: string;
  username: string;
}

/** A persona as the directory lists it; `listed` is the owner's opt-in. */
export type ListedPersona = Persona & { listed?: boolean };

/** TODO(list_personas, lookup_users): drop once picard-api.ts carries these tools. */
interface PendingToolInputs {
  list_personas: { query?: string; limit?: number; cursor?: string };
  lookup_users: { usernames?: string[]; user_ids?: string[] };
}
/** TODO(list_personas, lookup_users): drop once picard-api.ts carries these tools. */
interface PendingToolResults {
  list_personas: { personas: ListedPersona[]; next_cursor?: string | null };
  lookup_users: { users: UserRef[] };
}

export type BffToolInput<N extends ForwardedTool> = N extends ToolName
  ? ToolInput<N>
  : N extends keyof PendingToolInputs
    ? PendingToolInputs[N]
    : never;

export type BffToolResult<N extends ForwardedTool> = N extends ToolName
  ? ToolResult<N>
  : N extends keyof PendingToolResults
    ? PendingToolResults[N]
    : never;

/** update_persona's input with the directory opt-in (`listed`), which the regenerated contract adds. */
export type PersonaUpdate = BffToolInput<'update_persona'> & { listed?: boolean };
