import type { BffToolInput } from '../../../core/api/tool-types';

export type ConversationMessage = BffToolInput<'remember_conversation'>['messages'][number];

/** Speaker labels as chat apps write them when a conversation is copied; matched case-insensitively. */
const USER_LABELS = ['me', 'user', 'you', 'human'];
const ASSISTANT_LABELS = ['assistant', 'ai', 'bot', 'chatgpt', 'claude', 'gemini', 'copilot', 'picard'];
const LABEL = new RegExp(`^\\s*(${[...USER_LABELS, ...ASSISTANT_LABELS].join('|')})\\s*:\\s?(.*)$`, 'i');

/**
 * A pasted conversation as messages. A line starting with a speaker label ("Me:", "User:",
 * "Assistant:", "ChatGPT:"...) starts a message; other lines continue the current one; text before
 * any label is the user's. Blank messages are dropped. Hand-written because it is a few lines of
 * line splitting with no format to follow (every chat app copies differently).
 */
export function parseConversation(text: string): ConversationMessage[] {
  const messages: ConversationMessage[] = [];
  let current: ConversationMessage | null = null;
  for (const line of text.replace(/\r\n?/g, '\n').split('\n')) {
    const m = LABEL.exec(line);
    if (m) {
      current = {
        role: USER_LABELS.includes(m[1]!.toLowerCase()) ? 'user' : 'assistant',
        content: m[2] ?? '',
      };
      messages.push(current);
    } else if (current) {
      current.content += `\n${line}`;
    } else if (line.trim()) {
      current = { role: 'user', content: line };
      messages.push(current);
    }
  }
  return messages.map((msg) => ({ ...msg, content: msg.content.trim() })).filter((msg) => msg.content !== '');
}
