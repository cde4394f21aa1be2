import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { RouterLink } from '@angular/router';
import type { BffError } from '@contract/bff-api';
import type { ListedPersona } from '../../../core/api/tool-types';
import { ErrorMessage } from '../../../core/errors/error-message';
import { toBffError } from '../../../core/errors/bff-error';
import { UserDirectory } from '../../../core/users/user-directory';
import { PersonasService, personaName } from '../services/personas.service';

/** The persona directory (list_personas): listed personas by display name, searchable, paged. */
@Component({
  selector: 'app-persona-directory',
  imports: [RouterLink, ErrorMessage],
  templateUrl: './persona-directory.html',
  styleUrl: './persona-directory.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PersonaDirectory implements OnInit {
  private readonly service = inject(PersonasService);
  protected readonly users = inject(UserDirectory);

  protected readonly query = signal('');
  protected readonly personas = signal<ListedPersona[]>([]);
  protected readonly nextCursor = signal<string | null>(null);
  protected readonly loading = signal(false);
  protected readonly failure = signal<BffError | null>(null);
  protected readonly personaName = personaName;

  ngOnInit(): void {
    void this.search();
  }

  async search(more = false): Promise<void> {
    this.loading.set(true);
    this.failure.set(null);
    try {
      const page = await this.service.directory(this.query(), more ? this.nextCursor() : null);
      this.personas.update((list) => (more ? [...list, ...page.personas] : page.personas));
      this.nextCursor.set(page.next_cursor || null);
      void this.users.resolveIds(page.personas.map((p) => p.user_id));
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.loading.set(false);
    }
  }
}
