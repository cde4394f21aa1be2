/**
 * Tool input and result types for POST /bff/tools/{tool}, from the contract (ToolInput / ToolResult,
 * generated from the gateway's OpenAPI document), under the names the pages use.
 */
import type { ForwardedTool, Persona, ToolInput, ToolResult } from '@contract/bff-api';

export type BffToolInput<N extends ForwardedTool> = ToolInput<N>;
export type BffToolResult<N extends ForwardedTool> = ToolResult<N>;

/** One account as lookup_users names it (never an email). */
export type UserRef = BffToolResult<'lookup_users'>['users'][number];

/** A persona; `listed` is the owner's opt-in to the directory. */
export type ListedPersona = Persona;

export type PersonaUpdate = BffToolInput<'update_persona'>;
