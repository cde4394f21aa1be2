/**
 * The contract between the web app (web/) and its backend-for-frontend (server/): the JSON API the
 * BFF serves under /bff/. Picard's own shapes (memories, groups, personas, tool inputs and results)
 * come from picard-api.ts, generated from the gateway's OpenAPI document
 * (`npm run generate-client-contract` at the repository root), so neither side redeclares them.
 *
 * Conventions:
 * - JSON in and out; every error is a `BffError` with an HTTP status (400 bad input naming `field`,
 *   401 not signed in or session ended, 403 forbidden or CSRF, 404, 409, 413, 429, 502/503 Picard
 *   unreachable).
 * - CSRF: the BFF sets a script-readable cookie `XSRF-TOKEN` (it is not a credential); every
 *   POST/PATCH/PUT/DELETE under /bff/ must echo it in the `X-XSRF-TOKEN` header (Angular's
 *   HttpClient does this by itself for relative URLs). Missing or wrong → 403 `csrf_failed`.
 * - The session is an HttpOnly cookie; no Picard token ever appears in a response.
 */
import type { components, operations } from './picard-api.js';

type Schemas = components['schemas'];

export type Memory = Schemas['Memory'];
export type MemoryHistory = Schemas['MemoryHistory'];
export type MemoryVersion = Schemas['MemoryVersion'];
export type ScoredMemory = Schemas['ScoredMemory'];
export type Group = Schemas['Group'];
export type Persona = Schemas['Persona'];
export type QueryUserResult = Schemas['QueryUserResult'];
export type Activity = Schemas['Activity'];
export type AdminSummary = Schemas['AdminSummary'];
export type Permission = Memory['permission'];

/** Every gateway tool, by name (`query_memory`, `get_memories`, ...). */
export type ToolName = {
  [K in keyof operations]: K extends `tool_${infer N}` ? N : never;
}[keyof operations];

type ToolOperation<N extends ToolName> = operations[`tool_${N}`];
/** What a tool takes: the body of POST /api/tools/{tool} (the `data` of POST /api/tools), and of POST /bff/tools/{tool}. */
export type ToolInput<N extends ToolName> = NonNullable<
  ToolOperation<N>['requestBody']
>['content']['application/json'];
/** What a tool returns: `result` of POST /api/tools, and of POST /bff/tools/{tool}. */
export type ToolResult<N extends ToolName> =
  ToolOperation<N>['responses'][200]['content']['application/json']['result'];

/** The tools the BFF forwards as they are: POST /bff/tools/{tool} with ToolInput → { result: ToolResult }. */
export const FORWARDED_TOOLS = [
  'get_memory',
  'get_memories',
  'query_memory',
  'submit_memory',
  'update_memory',
  'delete_memory',
  'delete_memories',
  'modify_permissions',
  'get_memory_history',
  'restore_memory',
  'create_group',
  'rename_group',
  'delete_group',
  'add_group_member',
  'remove_group_member',
  'list_groups',
  'get_activity',
  'get_persona',
  'update_persona',
  'list_personas',
  'lookup_users',
  'remember_conversation',
] as const;
export type ForwardedTool = (typeof FORWARDED_TOOLS)[number];

/** Tools that change something: the UI hides them without memories:write. */
export const WRITE_TOOLS: readonly ForwardedTool[] = [
  'submit_memory',
  'update_memory',
  'delete_memory',
  'delete_memories',
  'modify_permissions',
  'restore_memory',
  'create_group',
  'rename_group',
  'delete_group',
  'add_group_member',
  'remove_group_member',
  'update_persona',
  'remember_conversation',
];

export interface BffError {
  /** A stable code: invalid_argument, not_found, permission_denied, unauthenticated, session_expired, csrf_failed, rate_limited, conflict, picard_unavailable, internal, ... */
  error: string;
  /** What went wrong and what to do, in words a user can act on. */
  message: string;
  /** The input field at fault, e.g. `password` or `data.tags[0]`. */
  field?: string;
  /** A refused batch: one entry per bad item. */
  errors?: { index: number; field?: string; message: string }[];
}

export type SignInMethod = 'password' | 'picard';

export interface SessionUser {
  /** The web app's own account id. */
  id: string;
  username: string;
  email: string;
  /** The same person's id at Picard (memories' user_id). */
  picard_user_id: string;
  sign_in: SignInMethod;
}

/** GET /bff/session (also the body of a successful sign-up or login). */
export type SessionInfo =
  | { authenticated: false; picard_sign_in_available: boolean }
  | {
      authenticated: true;
      user: SessionUser;
      /** The scopes Picard granted, e.g. ["memories:read", "memories:write"]. */
      scopes: string[];
      can_write: boolean;
      is_admin: boolean;
    };

/** POST /bff/auth/signup → 201 SessionInfo. Errors name the field (username taken → 409, field username). */
export interface SignupRequest {
  username: string;
  email: string;
  password: string;
}

/** POST /bff/auth/login → 200 SessionInfo; wrong credentials → 401 invalid_credentials; throttled → 429. */
export interface LoginRequest {
  username: string;
  password: string;
}

/*
 * POST /bff/auth/logout → 204: revokes the Picard refresh token at /revoke, ends the session.
 * GET  /bff/auth/picard/start?access=write|read|admin → 302 to Picard's /authorize (PKCE S256, state);
 *      `read` asks for memories:read only, `admin` adds memories:admin. A browser navigation, not XHR.
 * GET  /bff/auth/picard/callback → 302 to `/` when signed in, or to `/login?error=<code>&message=<text>`.
 */

/** GET /bff/account, PATCH /bff/account (AccountUpdate) → Account. */
export interface Account {
  username: string;
  email: string;
  picard_user_id: string;
  sign_in: SignInMethod;
  created_at: string;
}

export interface AccountUpdate {
  email: string;
}

/** POST /bff/account/password → 204. Password accounts change the web app's password; Picard accounts change Picard's. */
export interface PasswordChange {
  current_password: string;
  new_password: string;
}

/** POST /bff/account/deactivate → 204: deactivates the account here and at Picard, ends the session. */
export interface DeactivateRequest {
  /** Required for password accounts. */
  password?: string;
}

/** The formats Picard writes (export_memories). */
export type ExportFormat = ToolInput<'export_memories'>['format'];
/** The formats Picard reads (import_memories): its own, and the files other memory tools write. */
export type ImportFormat = ToolInput<'import_memories'>['format'];

/** POST /bff/imports → 202 { job }: the file's text and its format; the import runs in the background. */
export interface ImportRequest {
  format: ImportFormat;
  data: string;
}

/** GET /bff/imports/{id} → { job } (only the user who started it sees it). Poll until state is not `running`. */
export interface ImportJob {
  id: string;
  state: 'running' | 'done' | 'failed';
  format: ImportFormat;
  /** Memories written so far. */
  done: number;
  /** Memories in the file, once it has been checked; null before. */
  total: number | null;
  result?: ToolResult<'import_memories'>;
  error?: BffError;
}

/*
 * GET /bff/exports?format=json|ndjson|csv|markdown[&include_history=true] → the file as an attachment
 *     (Content-Disposition: attachment; filename="picard-memories-<date>.<ext>"); with include_history
 *     each memory carries its earlier versions (export_memories' `history`).
 */

/** POST /bff/personas/{user_id}/ask → 200 application/x-ndjson, one AskEvent per line. */
export interface AskRequest {
  prompt: string;
  limit?: number;
}

export type AskEvent =
  | { type: 'delta'; text: string }
  | { type: 'result'; result: QueryUserResult }
  | { type: 'error'; error: BffError };

/*
 * Admin (is_admin only, else 403): GET /bff/admin/summary → AdminSummary;
 * GET /bff/admin/users?limit&cursor and GET /bff/admin/clients → the gateway's JSON as it is.
 */
