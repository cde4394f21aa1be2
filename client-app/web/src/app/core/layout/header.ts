import { ChangeDetectionStrategy, Component, inject, signal } from '@angular/core';
import { NavigationEnd, Router, RouterLink, RouterLinkActive } from '@angular/router';
import { takeUntilDestroyed } from '@angular/core/rxjs-interop';
import { filter } from 'rxjs';
import { BffClient } from '../api/bff-client';
import { ErrorStore } from '../errors/error-store';
import { toBffError } from '../errors/bff-error';
import { SessionStore } from '../session/session-store';

interface NavLink {
  path: string;
  label: string;
  adminOnly?: boolean;
}

@Component({
  selector: 'app-header',
  imports: [RouterLink, RouterLinkActive],
  templateUrl: './header.html',
  styleUrl: './header.css',
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Header {
  protected readonly session = inject(SessionStore);
  private readonly bff = inject(BffClient);
  private readonly router = inject(Router);
  private readonly errors = inject(ErrorStore);

  protected readonly menuOpen = signal(false);
  protected readonly signingOut = signal(false);
  protected readonly links: NavLink[] = [
    { path: '/memories', label: 'Memories' },
    { path: '/search', label: 'Search' },
    { path: '/groups', label: 'Groups' },
    { path: '/personas', label: 'Personas' },
    { path: '/transfer', label: 'Import & export' },
    { path: '/activity', label: 'Activity' },
    { path: '/account', label: 'Account' },
  ];

  constructor() {
    this.router.events
      .pipe(
        filter((e) => e instanceof NavigationEnd),
        takeUntilDestroyed(),
      )
      .subscribe(() => this.menuOpen.set(false));
  }

  protected toggleMenu(): void {
    this.menuOpen.update((open) => !open);
  }

  protected async logout(): Promise<void> {
    this.signingOut.set(true);
    try {
      await this.bff.logout();
      this.session.clear();
      this.session.notice.set('You are signed out.');
      await this.router.navigateByUrl('/login');
    } catch (err) {
      this.errors.report(toBffError(err));
    } finally {
      this.signingOut.set(false);
    }
  }
}
