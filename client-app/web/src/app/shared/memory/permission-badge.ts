import { ChangeDetectionStrategy, Component, input } from '@angular/core';
import type { Permission } from '@contract/bff-api';

const LABELS: Record<Permission, string> = { private: 'Private', public: 'Public', shared: 'Shared' };

@Component({
  selector: 'app-permission-badge',
  template: `<span class="badge badge-{{ permission() }}">{{ label(permission()) }}</span>`,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class PermissionBadge {
  readonly permission = input.required<Permission>();
  protected label(p: Permission): string {
    return LABELS[p] ?? p;
  }
}
