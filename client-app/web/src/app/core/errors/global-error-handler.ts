import { ErrorHandler, Injectable, inject } from '@angular/core';
import { ErrorStore } from './error-store';
import { toBffError } from './bff-error';

/** Uncaught errors become the banner's message instead of a blank page; the details go to the console. */
@Injectable()
export class GlobalErrorHandler implements ErrorHandler {
  private readonly errors = inject(ErrorStore);

  handleError(error: unknown): void {
    console.error(error);
    this.errors.report(toBffError(error));
  }
}
