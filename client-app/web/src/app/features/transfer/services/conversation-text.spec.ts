import { describe, expect, it } from '@jest/globals';
import { parseConversation } from './conversation-text';

describe('parseConversation', () => {
  it('splits on speaker labels, joins continuation lines and drops blank messages', () => {
    const text = [
      'I moved to Lyon last month.',
      'Assistant: Congratulations! How is it?',
      'Me: Great. I started learning French',
      'and I take the tram to work.',
      '',
      'ChatGPT:   ',
      'user: My cat is called Miso',
    ].join('\r\n');
    expect(parseConversation(text)).toEqual([
      { role: 'user', content: 'I moved to Lyon last month.' },
      { role: 'assistant', content: 'Congratulations! How is it?' },
      { role: 'user', content: 'Great. I started learning French\nand I take the tram to work.' },
      { role: 'user', content: 'My cat is called Miso' },
    ]);
  });

  it('reads a text with no labels as one user message, and nothing as no messages', () => {
    expect(parseConversation('I like jazz.\nAnd blues.')).toEqual([
      { role: 'user', content: 'I like jazz.\nAnd blues.' },
    ]);
    expect(parseConversation('  \n ')).toEqual([]);
  });

  it('keeps a colon that is not a speaker label inside the message', () => {
    expect(parseConversation('Note: I am vegetarian')).toEqual([
      { role: 'user', content: 'Note: I am vegetarian' },
    ]);
  });
});
