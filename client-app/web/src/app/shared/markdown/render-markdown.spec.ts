import { describe, expect, it, jest } from '@jest/globals';
import { TestBed } from '@angular/core/testing';
import { MarkdownView } from './markdown-view';
import { renderMarkdown } from './render-markdown';

describe('renderMarkdown', () => {
  it('renders Markdown', () => {
    const html = renderMarkdown('# Title\n\n**bold** and [a link](https://example.com)');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('href="https://example.com"');
    expect(html).toContain('rel="noopener noreferrer nofollow"');
  });

  it.each([
    ['an img with onerror', '<img src=x onerror=alert(1)>'],
    ['a script tag', '<script>alert(1)</script>'],
    ['a javascript: link', '[x](javascript:alert(1))'],
    ['a javascript: html link', '<a href="javascript:alert(1)">x</a>'],
    ['an encoded javascript: link', '[x](&#106;avascript:alert(1))'],
    ['an svg onload', '<svg onload=alert(1)><circle r=1></circle></svg>'],
    ['an iframe', '<iframe src="javascript:alert(1)"></iframe>'],
    ['a data: URL', '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)'],
    ['an inline style', '<p style="background:url(javascript:alert(1))">x</p>'],
    ['a form', '<form action="https://evil.example"><button>go</button></form>'],
  ])('makes %s inert', (_label, text) => {
    const html = renderMarkdown(text);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/\son\w+=/i);
    expect(html).not.toMatch(/javascript:/i);
    expect(html).not.toMatch(/data:text/i);
    expect(html).not.toMatch(/<(iframe|svg|form|button|style)/i);
    expect(html).not.toMatch(/style=/i);
  });

  it('keeps the harmless part of an XSS attempt', () => {
    expect(renderMarkdown('<img src=x onerror=alert(1)>')).toMatch(/<img src="x">/);
    expect(renderMarkdown('[x](javascript:alert(1))')).toContain('x');
  });

  it('renders inert in the DOM: no handlers, no scripts, no dangerous links', async () => {
    const alert = jest.fn();
    (window as unknown as { alert: unknown }).alert = alert;
    const fixture = TestBed.createComponent(MarkdownView);
    fixture.componentRef.setInput(
      'text',
      '<img src=x onerror=alert(1)>\n\n<script>alert(1)</script>\n\n[x](javascript:alert(1))',
    );
    await fixture.whenStable();
    const root: HTMLElement = fixture.nativeElement;
    expect(root.querySelector('script')).toBeNull();
    const img = root.querySelector('img');
    expect(img?.getAttribute('onerror')).toBeNull();
    for (const a of Array.from(root.querySelectorAll('a'))) {
      expect(a.getAttribute('href') ?? '').not.toMatch(/^javascript:/i);
    }
    expect(alert).not.toHaveBeenCalled();
  });
});
