import { ChangeDetectionStrategy, Component } from '@angular/core';
import { RouterOutlet } from '@angular/router';
import { ErrorBanner } from './core/errors/error-banner';
import { Header } from './core/layout/header';

@Component({
  selector: 'app-root',
  imports: [RouterOutlet, Header, ErrorBanner],
  template: `
    <a class="skip-link" href="#main">Skip to content</a>
    <app-header />
    <app-error-banner />
    <main id="main" class="page" tabindex="-1">
      <router-outlet />
    </main>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class App {}
