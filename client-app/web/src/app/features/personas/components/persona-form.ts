import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import type { BffError } from '@contract/bff-api';
import type { ListedPersona, PersonaUpdate } from '../../../core/api/tool-types';
import { ErrorMessage } from '../../../core/errors/error-message';
import { fieldAtFault, toBffError } from '../../../core/errors/bff-error';
import { SessionStore } from '../../../core/session/session-store';
import { TagInput } from '../../../shared/forms/tag-input';
import { PersonasService } from '../services/personas.service';

interface PersonaDraft {
  display_name: string;
  description: string;
  tone: string;
  tags: string[];
  listed: boolean;
  model: string;
  temperature: number;
  max_tokens: number;
  memory_limit: number;
}

/** Your own persona: how it introduces itself and answers, and whether the directory lists it. */
@Component({
  selector: 'app-persona-form',
  imports: [ErrorMessage, TagInput],
  templateUrl: './persona-form.html',
  styleUrl: './persona-form.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PersonaForm implements OnInit {
  private readonly service = inject(PersonasService);
  protected readonly session = inject(SessionStore);

  protected readonly draft = signal<PersonaDraft | null>(null);
  protected readonly loading = signal(true);
  protected readonly saving = signal(false);
  protected readonly failure = signal<BffError | null>(null);
  protected readonly status = signal<string | null>(null);
  protected readonly fieldAtFault = fieldAtFault;

  async ngOnInit(): Promise<void> {
    const me = this.session.user()?.picard_user_id;
    if (!me) return;
    try {
      this.draft.set(toDraft(await this.service.get(me)));
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.loading.set(false);
    }
  }

  protected patch(change: Partial<PersonaDraft>): void {
    this.draft.update((d) => (d ? { ...d, ...change } : d));
  }

  protected num(value: string): number {
    return value === '' ? NaN : Number(value);
  }

  async save(): Promise<void> {
    const d = this.draft();
    if (!d) return;
    const problem = validate(d);
    this.failure.set(problem);
    this.status.set(null);
    if (problem) return;
    this.saving.set(true);
    try {
      const update: PersonaUpdate = {
        display_name: d.display_name.trim(),
        description: d.description,
        tone: d.tone.trim(),
        tags: d.tags,
        listed: d.listed,
        model: d.model.trim(),
        temperature: d.temperature,
        max_tokens: d.max_tokens,
        memory_limit: d.memory_limit,
      };
      this.draft.set(toDraft(await this.service.update(update), d.listed));
      this.status.set('Persona saved.');
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.saving.set(false);
    }
  }
}

function toDraft(p: ListedPersona, listedFallback = false): PersonaDraft {
  return {
    display_name: p.display_name,
    description: p.description,
    tone: p.tone,
    tags: [...p.tags],
    listed: p.listed ?? listedFallback,
    model: p.model === 'offline' ? '' : p.model,
    temperature: p.temperature,
    max_tokens: p.max_tokens,
    memory_limit: p.memory_limit,
  };
}

const bad = (field: string, message: string): BffError => ({ error: 'invalid_argument', field, message });

function validate(d: PersonaDraft): BffError | null {
  if (d.display_name.trim().length > 100)
    return bad('display_name', 'The display name is at most 100 characters.');
  if (d.description.length > 1000) return bad('description', 'The description is at most 1000 characters.');
  if (!d.tone.trim() || d.tone.trim().length > 100)
    return bad('tone', 'Describe the tone in 1-100 characters, e.g. "friendly".');
  if (!Number.isFinite(d.temperature) || d.temperature < 0 || d.temperature > 2)
    return bad('temperature', 'Temperature is a number from 0 to 2.');
  if (!Number.isInteger(d.max_tokens) || d.max_tokens < 1)
    return bad('max_tokens', 'Max tokens is a whole number above 0.');
  if (!Number.isInteger(d.memory_limit) || d.memory_limit < 1 || d.memory_limit > 50)
    return bad('memory_limit', 'Memories per answer is a whole number from 1 to 50.');
  return null;
}
