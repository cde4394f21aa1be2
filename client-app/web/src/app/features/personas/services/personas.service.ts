import { Injectable, inject } from '@angular/core';
import type { Persona } from '@contract/bff-api';
import { BffClient } from '../../../core/api/bff-client';
import type { BffToolResult, ListedPersona, PersonaUpdate } from '../../../core/api/tool-types';

export const DIRECTORY_PAGE = 20;

@Injectable({ providedIn: 'root' })
export class PersonasService {
  private readonly bff = inject(BffClient);

  get(userId: string): Promise<ListedPersona> {
    return this.bff.tool('get_persona', { user_id: userId });
  }

  update(patch: PersonaUpdate): Promise<ListedPersona> {
    // `listed` comes with the regenerated contract; until then the object carries it through as is.
    return this.bff.tool('update_persona', patch);
  }

  directory(query: string, cursor?: string | null): Promise<BffToolResult<'list_personas'>> {
    return this.bff.tool('list_personas', {
      limit: DIRECTORY_PAGE,
      ...(query.trim() ? { query: query.trim() } : {}),
      ...(cursor ? { cursor } : {}),
    });
  }
}

export function personaName(p: Pick<Persona, 'display_name'>, username?: string | null): string {
  return p.display_name?.trim() || username || 'Unnamed persona';
}
