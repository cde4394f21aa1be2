import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { FormsModule } from '@angular/forms';
import { Router, RouterLink } from '@angular/router';
import type { BffError } from '@contract/bff-api';
import { BffClient } from '../../../core/api/bff-client';
import { ErrorMessage } from '../../../core/errors/error-message';
import { fieldAtFault, toBffError } from '../../../core/errors/bff-error';
import { SessionStore } from '../../../core/session/session-store';
import { PicardSignIn } from '../components/picard-sign-in';
import { PASSWORD_MIN } from '../../../shared/password-rules';

/** The checks the BFF also makes, said before the round trip; the BFF's answer has the last word. */
export function signupProblem(v: { username: string; email: string; password: string }): BffError | null {
  if (!/^[A-Za-z0-9_.-]{3,64}$/.test(v.username.trim())) {
    return {
      error: 'invalid_argument',
      field: 'username',
      message: 'Choose a username of 3-64 letters, digits, dots, dashes or underscores.',
    };
  }
  if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(v.email.trim())) {
    return { error: 'invalid_argument', field: 'email', message: 'Enter a valid email address.' };
  }
  if (v.password.length < PASSWORD_MIN) {
    return {
      error: 'invalid_argument',
      field: 'password',
      message: `Use a password of at least ${PASSWORD_MIN} characters.`,
    };
  }
  return null;
}

@Component({
  selector: 'app-signup',
  imports: [FormsModule, RouterLink, ErrorMessage, PicardSignIn],
  templateUrl: './signup.html',
  styleUrl: './auth-pages.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Signup {
  private readonly bff = inject(BffClient);
  private readonly router = inject(Router);
  protected readonly session = inject(SessionStore);

  protected username = '';
  protected email = '';
  protected password = '';
  protected readonly passwordMin = PASSWORD_MIN;
  protected readonly busy = signal(false);
  protected readonly failure = signal<BffError | null>(null);
  protected readonly fieldAtFault = fieldAtFault;

  protected async submit(): Promise<void> {
    const values = { username: this.username, email: this.email, password: this.password };
    const problem = signupProblem(values);
    this.failure.set(problem);
    if (problem) return;
    this.busy.set(true);
    try {
      const info = await this.bff.signup({
        username: values.username.trim(),
        email: values.email.trim(),
        password: values.password,
      });
      this.session.set(info);
      await this.router.navigateByUrl('/memories');
    } catch (err) {
      this.failure.set(toBffError(err));
    } finally {
      this.busy.set(false);
    }
  }
}
