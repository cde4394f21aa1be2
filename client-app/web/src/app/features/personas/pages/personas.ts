import { ChangeDetectionStrategy, Component } from '@angular/core';
import { PersonaDirectory } from '../components/persona-directory';
import { PersonaForm } from '../components/persona-form';

@Component({
  selector: 'app-personas',
  imports: [PersonaForm, PersonaDirectory],
  template: `
    <div class="page-head"><h1>Personas</h1></div>
    <p class="lead">A persona answers questions from its owner's memories: only the ones you may see.</p>
    <div class="grid-2 cols">
      <app-persona-directory />
      <app-persona-form />
    </div>
  `,
  styles: `
    .cols {
      align-items: start;
    }
  `,
  changeDetection: ChangeDetectionStrategy.OnPush,
})
export class Personas {}
