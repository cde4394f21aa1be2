import {
  ChangeDetectionStrategy,
  Component,
  ElementRef,
  afterNextRender,
  inject,
  input,
  output,
} from '@angular/core';

/** An inline "are you sure" for destructive actions; focus moves to it, Escape cancels. */
@Component({
  selector: 'app-confirm-panel',
  template: `
    <div
      class="confirm"
      role="alertdialog"
      aria-modal="false"
      [attr.aria-label]="title()"
      (keydown.escape)="cancelled.emit()"
    >
      <p class="title">
        <strong>{{ title() }}</strong>
      </p>
      <ng-content />
      <div class="form-actions">
        <button type="button" class="btn btn-danger solid" (click)="confirmed.emit()" [disabled]="busy()">
          {{ busy() ? busyLabel() : confirmLabel() }}
        </button>
        <button type="button" class="btn btn-secondary" (click)="cancelled.emit()" [disabled]="busy()">
          Cancel
        </button>
      </div>
    </div>
  `,
  styles: `
    .confirm {
      border: 1px solid var(--danger-border);
      background: var(--danger-bg);
      border-radius: var(--radius);
      padding: 0.9rem 1rem;
      margin: 0.5rem 0 1rem;
    }
    .title {
      margin-bottom: 0.4rem;
      color: var(--danger);
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ConfirmPanel {
  readonly title = input.required<string>();
  readonly confirmLabel = input('Delete');
  readonly busyLabel = input('Deleting…');
  readonly busy = input(false);
  readonly confirmed = output<void>();
  readonly cancelled = output<void>();

  constructor() {
    const host = inject(ElementRef<HTMLElement>);
    afterNextRender(() =>
      (host.nativeElement.querySelector('button.btn-secondary') as HTMLElement | null)?.focus(),
    );
  }
}
