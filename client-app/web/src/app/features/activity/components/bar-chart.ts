import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { type Bar, barLayout } from './chart-geometry';

/** A small bar chart in SVG, with the numbers also given as text for screen readers. */
@Component({
  selector: 'app-bar-chart',
  template: `
    <figure class="chart">
      <svg
        [attr.viewBox]="'0 -24 ' + width + ' ' + (height + 56)"
        role="img"
        [attr.aria-label]="summary()"
        preserveAspectRatio="xMinYMid meet"
      >
        <line x1="0" [attr.y1]="height" [attr.x2]="width" [attr.y2]="height" class="axis" />
        @for (b of rects(); track b.label; let i = $index) {
          <rect
            [attr.x]="b.x"
            [attr.y]="b.y"
            [attr.width]="b.width"
            [attr.height]="b.height"
            rx="4"
            [attr.class]="'bar bar-' + i"
          />
          <text [attr.x]="b.x + b.width / 2" [attr.y]="b.y - 6" text-anchor="middle" class="value">
            {{ b.value }}
          </text>
          <text [attr.x]="b.x + b.width / 2" [attr.y]="height + 22" text-anchor="middle" class="label">
            {{ b.label }}
          </text>
        }
      </svg>
      @if (caption()) {
        <figcaption>{{ caption() }}</figcaption>
      }
    </figure>
  `,
  styles: `
    .chart {
      margin: 0;
    }
    svg {
      width: 100%;
      max-width: 24rem;
      height: auto;
      display: block;
    }
    .axis {
      stroke: var(--border);
    }
    .bar {
      fill: var(--accent);
    }
    .bar-0 {
      fill: var(--private);
    }
    .bar-1 {
      fill: var(--public);
    }
    .bar-2 {
      fill: var(--shared);
    }
    .value {
      font-size: 13px;
      font-weight: 600;
      fill: var(--text);
    }
    .label {
      font-size: 13px;
      fill: var(--text-muted);
    }
    figcaption {
      font-size: 0.85rem;
      color: var(--text-muted);
      margin-top: 0.25rem;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class BarChart {
  readonly bars = input.required<Bar[]>();
  readonly caption = input<string>('');
  protected readonly width = 300;
  protected readonly height = 140;
  protected readonly rects = computed(() => barLayout(this.bars(), this.width, this.height, 24, 80));
  protected readonly summary = computed(() =>
    this.bars()
      .map((b) => `${b.label}: ${b.value}`)
      .join(', '),
  );
}
