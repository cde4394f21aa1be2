import { describe, expect, it } from '@jest/globals';
import { TestBed } from '@angular/core/testing';
import type { AskEvent } from '@contract/bff-api';
import { BOB, memory, settle, setupHttp, signedIn } from '../../../../testing/helpers';
import { AskStream } from '../services/ask-stream';
import { PersonaAsk } from './persona-ask';

function fakeStream(events: AskEvent[]) {
  return {
    async *ask() {
      for (const e of events) {
        await Promise.resolve();
        yield e;
      }
    },
  };
}

async function askWith(events: AskEvent[]) {
  const { http } = setupHttp(signedIn(), [{ provide: AskStream, useValue: fakeStream(events) }]);
  const fixture = TestBed.createComponent(PersonaAsk);
  fixture.componentRef.setInput('userId', BOB);
  await fixture.whenStable();
  http
    .match(() => true)
    .forEach((r) => {
      if (r.request.url.endsWith('get_persona')) {
        r.flush({
          result: {
            user_id: BOB,
            display_name: 'Bob',
            description: 'Food lover',
            tone: 'warm',
            tags: [],
            model: 'offline',
            temperature: 0.3,
            max_tokens: 512,
            memory_limit: 10,
            updated_at: null,
          },
        });
      } else r.flush({ result: { users: [{ user_id: BOB, username: 'bob' }] } });
    });
  await settle();
  await fixture.whenStable();
  const el: HTMLElement = fixture.nativeElement;
  const ta = el.querySelector('#ask-prompt') as HTMLTextAreaElement;
  ta.value = 'Where to eat?';
  ta.dispatchEvent(new Event('input'));
  (el.querySelector('button[type=submit]') as HTMLButtonElement).click();
  for (let i = 0; i < 10; i++) await settle();
  await fixture.whenStable();
  http.match(() => true).forEach((r) => r.flush({ result: { users: [] } }));
  return el;
}

describe('PersonaAsk', () => {
  const cited = memory({ id: 'm-fish', user_id: BOB, permission: 'public', text: 'The fish place on Rua X' });

  it('appends the streamed deltas, then links the citations and shows the quoted memories', async () => {
    const el = await askWith([
      { type: 'delta', text: 'Try ' },
      { type: 'delta', text: 'the fish.' },
      {
        type: 'result',
        result: {
          answer: 'Try the fish.',
          generated: true,
          citations: ['m-fish'],
          memories: [{ ...cited, similarity: 0.8 }],
        },
      },
    ]);
    expect(el.querySelector('h1')?.textContent).toContain('Ask Bob');
    expect(el.querySelector('.answer-text')?.textContent).toContain('Try the fish.');
    const link = el.querySelector('.citations a') as HTMLAnchorElement;
    expect(link.getAttribute('href')).toBe('/memories/m-fish');
    expect(el.querySelector('.quoted')?.textContent).toContain('The fish place on Rua X');
    expect(el.textContent).not.toContain('Offline answer');
  });

  it('labels an offline answer as quoted, not generated', async () => {
    const el = await askWith([
      {
        type: 'result',
        result: {
          answer: '> The fish place',
          generated: false,
          citations: ['m-fish'],
          memories: [{ ...cited, similarity: 0.8 }],
        },
      },
    ]);
    expect(el.querySelector('.offline')?.textContent).toContain('Offline answer (quoted, not generated)');
  });

  it('shows a stream error as a message', async () => {
    const el = await askWith([
      { type: 'delta', text: 'Hm' },
      { type: 'error', error: { error: 'picard_unavailable', message: 'Picard is unreachable.' } },
    ]);
    expect(el.querySelector('[role=alert]')?.textContent).toContain('Picard is unreachable.');
  });
});
