import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import { type Point, linePath } from './chart-geometry';

/** A small time series in SVG (searches by day). */
@Component({
  selector: 'app-line-chart',
  template: `
    <figure class="chart">
      <svg
        [attr.viewBox]="'-8 -12 ' + (width + 16) + ' ' + (height + 40)"
        role="img"
        [attr.aria-label]="summary()"
      >
        <line x1="0" [attr.y1]="height" [attr.x2]="width" [attr.y2]="height" class="axis" />
        <path [attr.d]="geometry().d" class="line" />
        @for (dot of geometry().dots; track $index) {
          <circle [attr.cx]="dot.x" [attr.cy]="dot.y" r="3.5" class="dot" />
        }
        @if (points().length) {
          <text x="0" [attr.y]="height + 22" class="label">{{ points()[0]!.date }}</text>
          <text [attr.x]="width" [attr.y]="height + 22" text-anchor="end" class="label">
            {{ points()[points().length - 1]!.date }}
          </text>
        }
      </svg>
    </figure>
  `,
  styles: `
    .chart {
      margin: 0;
    }
    svg {
      width: 100%;
      max-width: 28rem;
      height: auto;
      display: block;
    }
    .axis {
      stroke: var(--border);
    }
    .line {
      fill: none;
      stroke: var(--accent);
      stroke-width: 2.5;
      stroke-linejoin: round;
    }
    .dot {
      fill: var(--accent);
    }
    .label {
      font-size: 12px;
      fill: var(--text-muted);
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class LineChart {
  readonly points = input.required<Point[]>();
  protected readonly width = 300;
  protected readonly height = 120;
  protected readonly geometry = computed(() => linePath(this.points(), this.width, this.height));
  protected readonly summary = computed(() =>
    this.points()
      .map((p) => `${p.date}: ${p.count}`)
      .join(', '),
  );
}
