import {
  ChangeDetectionStrategy,
  Component,
  DestroyRef,
  OnInit,
  computed,
  inject,
  input,
  signal,
} from '@angular/core';
import { RouterLink } from '@angular/router';
import type { BffError, QueryUserResult, ScoredMemory } from '@contract/bff-api';
import type { ListedPersona } from '../../../core/api/tool-types';
import { ErrorMessage } from '../../../core/errors/error-message';
import { toBffError } from '../../../core/errors/bff-error';
import { UserDirectory } from '../../../core/users/user-directory';
import { MarkdownView } from '../../../shared/markdown/markdown-view';
import { MemoryCard } from '../../../shared/memory/memory-card';
import { OwnerName } from '../../../shared/memory/owner-name';
import { AskStream } from '../services/ask-stream';
import { PersonasService, personaName } from '../services/personas.service';
import { numberCitations } from '../services/citation-markers';

/** /personas/:userId: ask someone's persona; the answer streams in, then its citations. */
@Component({
  selector: 'app-persona-ask',
  imports: [RouterLink, ErrorMessage, MarkdownView, MemoryCard],
  templateUrl: './persona-ask.html',
  styleUrl: './persona-ask.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PersonaAsk implements OnInit {
  private readonly service = inject(PersonasService);
  private readonly stream = inject(AskStream);
  private readonly users = inject(UserDirectory);
  private readonly owners = inject(OwnerName);
  private controller: AbortController | null = null;

  readonly userId = input.required<string>();

  protected readonly persona = signal<ListedPersona | null>(null);
  protected readonly loadFailure = signal<BffError | null>(null);
  protected readonly prompt = signal('');
  protected readonly asking = signal(false);
  protected readonly answer = signal('');
  protected readonly result = signal<QueryUserResult | null>(null);
  protected readonly failure = signal<BffError | null>(null);
  protected readonly asked = signal<string | null>(null);

  protected readonly title = computed(() => {
    const p = this.persona();
    if (!p) return 'a persona';
    if (!p.display_name.trim() && this.owners.isMine(p.user_id)) return 'your own persona';
    return personaName(p, this.users.nameOf(p.user_id));
  });
  /** The answer with its `[memory:<id>]` markers numbered as the Sources list numbers them. */
  protected readonly shownAnswer = computed(() => numberCitations(this.answer(), this.result()?.citations));
  /** The cited memories, in citation order; ids the caller may not see are listed bare. */
  protected readonly citations = computed(() => {
    const r = this.result();
    if (!r) return [];
    const byId = new Map<string, ScoredMemory>(r.memories.map((m) => [m.id, m]));
    return r.citations.map((id, i) => ({ n: i + 1, id, memory: byId.get(id) ?? null }));
  });

  constructor() {
    inject(DestroyRef).onDestroy(() => this.controller?.abort());
  }

  async ngOnInit(): Promise<void> {
    void this.users.resolveIds([this.userId()]);
    try {
      this.persona.set(await this.service.get(this.userId()));
    } catch (err) {
      this.loadFailure.set(toBffError(err));
    }
  }

  async ask(): Promise<void> {
    const prompt = this.prompt().trim();
    if (!prompt) {
      this.failure.set({ error: 'invalid_argument', field: 'prompt', message: 'Type a question first.' });
      return;
    }
    this.controller?.abort();
    this.controller = new AbortController();
    this.asking.set(true);
    this.failure.set(null);
    this.answer.set('');
    this.result.set(null);
    this.asked.set(prompt);
    try {
      for await (const event of this.stream.ask(this.userId(), { prompt }, this.controller.signal)) {
        if (event.type === 'delta') this.answer.update((a) => a + event.text);
        else if (event.type === 'result') {
          this.result.set(event.result);
          this.answer.set(event.result.answer);
          void this.users.resolveIds(event.result.memories.map((m) => m.user_id));
        } else this.failure.set(event.error);
      }
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.asking.set(false);
    }
  }

  protected stop(): void {
    this.controller?.abort();
    this.asking.set(false);
  }
}
