import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, OnInit, inject, signal } from '@angular/core';
import { Router } from '@angular/router';
import type { Account as AccountData, BffError } from '@contract/bff-api';
import { BffClient } from '../../../core/api/bff-client';
import { ErrorMessage } from '../../../core/errors/error-message';
import { fieldAtFault, toBffError } from '../../../core/errors/bff-error';
import { SessionStore } from '../../../core/session/session-store';
import { ConfirmPanel } from '../../../shared/confirm/confirm-panel';
import { PASSWORD_MIN } from '../../../shared/password-rules';

@Component({
  selector: 'app-account',
  imports: [DatePipe, ErrorMessage, ConfirmPanel],
  templateUrl: './account.html',
  styleUrl: './account.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Account implements OnInit {
  private readonly bff = inject(BffClient);
  private readonly router = inject(Router);
  protected readonly session = inject(SessionStore);

  protected readonly account = signal<AccountData | null>(null);
  protected readonly loadFailure = signal<BffError | null>(null);
  protected readonly fieldAtFault = fieldAtFault;

  protected readonly email = signal('');
  protected readonly emailBusy = signal(false);
  protected readonly emailFailure = signal<BffError | null>(null);
  protected readonly emailStatus = signal<string | null>(null);

  protected readonly currentPassword = signal('');
  protected readonly newPassword = signal('');
  protected readonly confirmPassword = signal('');
  protected readonly passwordBusy = signal(false);
  protected readonly passwordFailure = signal<BffError | null>(null);
  protected readonly passwordStatus = signal<string | null>(null);

  protected readonly confirmingDeactivate = signal(false);
  protected readonly deactivatePassword = signal('');
  protected readonly deactivateBusy = signal(false);
  protected readonly deactivateFailure = signal<BffError | null>(null);

  async ngOnInit(): Promise<void> {
    try {
      const account = await this.bff.account();
      this.account.set(account);
      this.email.set(account.email);
    } catch (err) {
      this.loadFailure.set(toBffError(err));
    }
  }

  protected async saveEmail(): Promise<void> {
    const email = this.email().trim();
    this.emailStatus.set(null);
    if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) {
      this.emailFailure.set({
        error: 'invalid_argument',
        field: 'email',
        message: 'Enter a valid email address.',
      });
      return;
    }
    this.emailBusy.set(true);
    this.emailFailure.set(null);
    try {
      this.account.set(await this.bff.updateAccount({ email }));
      this.emailStatus.set('Email updated.');
    } catch (err) {
      this.emailFailure.set(toBffError(err));
    } finally {
      this.emailBusy.set(false);
    }
  }

  protected async changePassword(): Promise<void> {
    this.passwordStatus.set(null);
    const fail = (field: string, message: string) =>
      this.passwordFailure.set({ error: 'invalid_argument', field, message });
    if (!this.currentPassword()) return fail('current_password', 'Enter your current password.');
    if (this.newPassword().length < PASSWORD_MIN)
      return fail('new_password', `Use at least ${PASSWORD_MIN} characters.`);
    if (this.newPassword() !== this.confirmPassword())
      return fail('confirm_password', 'The two new passwords differ.');
    this.passwordBusy.set(true);
    this.passwordFailure.set(null);
    try {
      await this.bff.changePassword({
        current_password: this.currentPassword(),
        new_password: this.newPassword(),
      });
      this.currentPassword.set('');
      this.newPassword.set('');
      this.confirmPassword.set('');
      this.passwordStatus.set('Password changed.');
    } catch (err) {
      const e = toBffError(err);
      this.passwordFailure.set(
        e.error === 'invalid_credentials' && !e.field ? { ...e, field: 'current_password' } : e,
      );
    } finally {
      this.passwordBusy.set(false);
    }
  }

  protected async deactivate(): Promise<void> {
    const needsPassword = this.account()?.sign_in === 'password';
    if (needsPassword && !this.deactivatePassword()) {
      this.deactivateFailure.set({
        error: 'invalid_argument',
        field: 'password',
        message: 'Enter your password to confirm.',
      });
      return;
    }
    this.deactivateBusy.set(true);
    this.deactivateFailure.set(null);
    try {
      await this.bff.deactivate(needsPassword ? { password: this.deactivatePassword() } : {});
      this.session.clear();
      this.session.notice.set('Your account is deactivated. Thank you for using Picard.');
      await this.router.navigateByUrl('/login');
    } catch (err) {
      const e = toBffError(err);
      this.deactivateFailure.set(
        e.error === 'invalid_credentials' && !e.field ? { ...e, field: 'password' } : e,
      );
    } finally {
      this.deactivateBusy.set(false);
    }
  }
}
