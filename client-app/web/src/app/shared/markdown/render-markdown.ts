/**
 * Memory text is untrusted Markdown: marked turns it into HTML and DOMPurify removes everything
 * executable (scripts, event handlers, javascript: and data: URLs, forms, styles). The result is the
 * only HTML the app ever binds. Imported by lazy feature pages only, so that marked and DOMPurify
 * stay out of the initial bundle.
 */
import DOMPurify from 'dompurify';
import { Marked } from 'marked';

const marked = new Marked({ gfm: true, breaks: true, async: false });

const PURIFY_CONFIG = {
  USE_PROFILES: { html: true },
  FORBID_TAGS: [
    'style',
    'form',
    'input',
    'button',
    'textarea',
    'select',
    'iframe',
    'object',
    'embed',
    'svg',
    'math',
  ],
  FORBID_ATTR: ['style', 'srcset'],
  ALLOW_DATA_ATTR: false,
};

let hooked = false;
function addLinkHook(): void {
  if (hooked) return;
  hooked = true;
  // Links open elsewhere and tell the other page nothing about this one.
  DOMPurify.addHook('afterSanitizeAttributes', (node) => {
    if (node.tagName === 'A' && node.hasAttribute('href')) {
      node.setAttribute('target', '_blank');
      node.setAttribute('rel', 'noopener noreferrer nofollow');
    }
  });
}

export function renderMarkdown(text: string): string {
  addLinkHook();
  const html = marked.parse(text ?? '') as string;
  return DOMPurify.sanitize(html, PURIFY_CONFIG) as string;
}
