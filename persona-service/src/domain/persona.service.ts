import { assertUuid, type Caller } from '@picard/service-kit';
import type { personaPb } from '@picard/proto';
import type { PersonaStore, StoredPersona } from '../store/persona.store.js';
import { ownUserId, requireScope, SCOPES } from './access.js';
import {
  decodeDirectoryCursor,
  directoryPageSize,
  directoryQuery,
  encodeDirectoryCursor,
} from './directory.rules.js';
import { applyPatch, OFFLINE_MODEL, PERSONA_DEFAULTS, type PersonaPatch } from './persona.rules.js';

/** Persona rules: who may read and change which persona, and what a persona looks like by default. */
export class PersonaService {
  constructor(
    private readonly store: PersonaStore,
    /** LLM_MODEL; shown as the model of every persona that did not pick its own. */
    private readonly defaultModel: string | undefined,
    /** LLM_MODEL and LLM_ALLOWED_MODELS: what a persona may pick. */
    private readonly allowedModels: readonly string[] = defaultModel ? [defaultModel] : [],
  ) {}

  /** A persona is a public profile: any caller allowed to read memories may read it. */
  async get(caller: Caller, userId: string): Promise<personaPb.Persona> {
    requireScope(caller, SCOPES.read);
    const id = assertUuid('user_id', userId);
    const stored = await this.store.find(id);
    return stored
      ? this.present(stored)
      : this.present({ ...PERSONA_DEFAULTS, userId: id, updatedAt: undefined });
  }

  /**
   * The directory: only personas whose owner set `listed`, readable by the same callers as
   * GetPersona. Every input is checked before the query runs, so a bad one names its field.
   */
  async list(caller: Caller, req: personaPb.ListPersonasRequest): Promise<personaPb.ListPersonasResponse> {
    requireScope(caller, SCOPES.read);
    const query = directoryQuery(req.query);
    const limit = directoryPageSize(req.limit);
    const after = req.cursor ? decodeDirectoryCursor(req.cursor) : undefined;
    // One row more than the page tells whether another page follows without a count.
    const rows = await this.store.listListed({ query, limit: limit + 1, after });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      personas: page.map((p) => this.present(p)),
      nextCursor: rows.length > limit && last ? encodeDirectoryCursor(last) : '',
    };
  }

  /** The request has no user id on purpose: a caller can only ever change their own persona. */
  async update(caller: Caller, patch: PersonaPatch): Promise<personaPb.Persona> {
    requireScope(caller, SCOPES.write);
    const id = ownUserId(caller);
    // Validate before touching the database, so bad input never opens a transaction; only the tag
    // count depends on the stored tags and is checked again inside it.
    applyPatch(PERSONA_DEFAULTS, patch, this.allowedModels);
    const stored = await this.store.update(id, PERSONA_DEFAULTS, (current) =>
      applyPatch(current, patch, this.allowedModels),
    );
    return this.present(stored);
  }

  private present(p: Omit<StoredPersona, 'updatedAt'> & { updatedAt: Date | undefined }): personaPb.Persona {
    return {
      userId: p.userId,
      displayName: p.displayName,
      description: p.description,
      tone: p.tone,
      tags: [...p.tags],
      model: p.model ?? this.defaultModel ?? OFFLINE_MODEL,
      temperature: p.temperature,
      maxTokens: p.maxTokens,
      memoryLimit: p.memoryLimit,
      listed: p.listed,
      updatedAt: p.updatedAt,
    };
  }
}
