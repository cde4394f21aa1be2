import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import type { BffError } from '@contract/bff-api';

/** A page's or form's failure: the BFF's message, and one line per refused batch item. */
@Component({
  selector: 'app-error-message',
  template: `
    <div aria-live="polite">
      @if (error(); as e) {
        <div class="alert alert-error" role="alert">
          <p>{{ e.message }}</p>
          @if (e.errors?.length) {
            <ul>
              @for (item of e.errors; track $index) {
                <li>
                  Item {{ item.index + 1 }}{{ item.field ? ' (' + item.field + ')' : '' }}: {{ item.message }}
                </li>
              }
            </ul>
          }
        </div>
      }
    </div>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ErrorMessage {
  readonly error = input<BffError | null>(null);
}
