import { ChangeDetectionStrategy, Component } from '@angular/core';
import { RouterLink } from '@angular/router';

@Component({
  selector: 'app-not-found',
  imports: [RouterLink],
  template: `
    <section class="card empty">
      <h1>Page not found</h1>
      <p>There is nothing at this address.</p>
      <a class="btn btn-primary" routerLink="/memories">Go to your memories</a>
    </section>
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class NotFound {}
