import { ChangeDetectionStrategy, Component, inject, input, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import type { BffError } from '@contract/bff-api';
import { BffClient } from '../../../core/api/bff-client';
import { ErrorMessage } from '../../../core/errors/error-message';
import { fieldAtFault, toBffError } from '../../../core/errors/bff-error';
import { SessionStore } from '../../../core/session/session-store';
import { PicardSignIn } from '../components/picard-sign-in';

@Component({
  selector: 'app-login',
  imports: [FormsModule, RouterLink, ErrorMessage, PicardSignIn],
  templateUrl: './login.html',
  styleUrl: './auth-pages.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Login {
  private readonly bff = inject(BffClient);
  private readonly router = inject(Router);
  protected readonly session = inject(SessionStore);

  /** From a failed "Sign in with Picard": /login?error=<code>&message=<text>. */
  readonly error = input<string>();
  readonly message = input<string>();

  protected username = '';
  protected password = '';
  protected readonly busy = signal(false);
  protected readonly failure = signal<BffError | null>(null);
  protected readonly fieldAtFault = fieldAtFault;

  protected callbackMessage(): string | null {
    if (!this.error() && !this.message()) return null;
    return this.message() || `Signing in with Picard did not work (${this.error()}). Try again.`;
  }

  protected async submit(): Promise<void> {
    if (!this.username.trim() || !this.password) {
      this.failure.set({
        error: 'invalid_argument',
        message: this.username.trim() ? 'Enter your password.' : 'Enter your username.',
        field: this.username.trim() ? 'password' : 'username',
      });
      return;
    }
    this.busy.set(true);
    this.failure.set(null);
    try {
      const info = await this.bff.login({ username: this.username.trim(), password: this.password });
      this.session.set(info);
      await this.router.navigateByUrl('/memories');
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.busy.set(false);
    }
  }
}
