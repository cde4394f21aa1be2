import { ChangeDetectionStrategy, Component, computed, signal } from '@angular/core';

/**
 * "Sign in with Picard": a plain navigation to the BFF, which redirects to Picard's own login and
 * consent pages (OAuth with PKCE); nothing here touches a token.
 */
@Component({
  selector: 'app-picard-sign-in',
  template: `
    <div class="picard">
      <p class="or"><span>or</span></p>
      <a class="btn btn-secondary wide" [href]="href()">Sign in with Picard</a>
      <label class="check">
        <input type="checkbox" [checked]="readOnly()" (change)="readOnly.set($any($event.target).checked)" />
        <span>Read-only access (this app may read your memories but not change them)</span>
      </label>
    </div>
  `,
  styles: `
    .picard {
      margin-top: 1rem;
    }
    .wide {
      width: 100%;
    }
    .check {
      margin-top: 0.75rem;
      font-size: 0.9rem;
      color: var(--text-muted);
    }
    .or {
      display: flex;
      align-items: center;
      gap: 0.75rem;
      color: var(--text-muted);
    }
    .or::before,
    .or::after {
      content: '';
      flex: 1;
      border-top: 1px solid var(--border);
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PicardSignIn {
  protected readonly readOnly = signal(false);
  protected readonly href = computed(
    () => `/bff/auth/picard/start?access=${this.readOnly() ? 'read' : 'write'}`,
  );
}
