import { ChangeDetectionStrategy, Component, input, model, signal } from '@angular/core';

/** Tags as chips: type one and press Enter (or a comma) to add it; each chip has a remove button. */
@Component({
  selector: 'app-tag-input',
  templateUrl: './tag-input.html',
  styleUrl: './tag-input.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class TagInput {
  readonly tags = model<string[]>([]);
  readonly inputId = input.required<string>();
  readonly label = input('Tags');
  readonly maxTags = input(20);
  readonly maxLength = input(64);
  readonly invalid = input(false);
  readonly disabled = input(false);

  protected readonly draft = signal('');
  protected readonly problem = signal<string | null>(null);

  protected onKeydown(event: KeyboardEvent): void {
    if (event.key === 'Enter' || event.key === ',') {
      event.preventDefault();
      this.commit();
    } else if (event.key === 'Backspace' && this.draft() === '' && this.tags().length) {
      this.remove(this.tags()[this.tags().length - 1]!);
    }
  }

  /** Adds what was typed; also called on blur so that a typed tag is not lost. */
  commit(): void {
    const parts = this.draft()
      .split(',')
      .map((t) => t.trim())
      .filter(Boolean);
    if (parts.length === 0) return;
    const next = [...this.tags()];
    for (const tag of parts) {
      if (tag.length > this.maxLength()) {
        this.problem.set(`A tag is at most ${this.maxLength()} characters.`);
        return;
      }
      if (next.includes(tag)) continue;
      if (next.length >= this.maxTags()) {
        this.problem.set(`At most ${this.maxTags()} tags.`);
        break;
      }
      next.push(tag);
    }
    this.tags.set(next);
    this.draft.set('');
    if (next.length < this.maxTags()) this.problem.set(null);
  }

  protected remove(tag: string): void {
    this.tags.set(this.tags().filter((t) => t !== tag));
    this.problem.set(null);
  }
}
