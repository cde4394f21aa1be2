import { ChangeDetectionStrategy, Component, inject } from '@angular/core';
import { ErrorStore } from './error-store';

@Component({
  selector: 'app-error-banner',
  templateUrl: './error-banner.html',
  styleUrl: './error-banner.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class ErrorBanner {
  protected readonly errors = inject(ErrorStore);
}
