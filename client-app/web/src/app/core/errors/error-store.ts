import { Injectable, signal } from '@angular/core';
import type { BffError } from '@contract/bff-api';

/** The global error banner's state: failures no page shows itself (network loss, uncaught errors). */
@Injectable({ providedIn: 'root' })
export class ErrorStore {
  readonly current = signal<BffError | null>(null);

  report(error: BffError): void {
    this.current.set(error);
  }

  dismiss(): void {
    this.current.set(null);
  }
}
