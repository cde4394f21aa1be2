import { expect } from '@jest/globals';
/**
 * Just enough of a browser for the authorization pages: a cookie jar, no automatic redirects,
 * and form fields read back from the HTML the gateway rendered.
 */
export class Browser {
  private readonly cookies = new Map<string, string>();

  constructor(
    private readonly base: string,
    /** Sent with every request, e.g. the X-Forwarded-For a trusted proxy would add. */
    private readonly fixedHeaders: Record<string, string> = {},
  ) {}

  private remember(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(line) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  private headers(extra: Record<string, string> = {}) {
    const cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    return { ...this.fixedHeaders, ...(cookie ? { cookie } : {}), ...extra };
  }

  async get(url: string) {
    const res = await fetch(new URL(url, this.base), { headers: this.headers(), redirect: 'manual' });
    this.remember(res);
    return {
      status: res.status,
      location: res.headers.get('location'),
      html: await res.text(),
      headers: res.headers,
    };
  }

  async post(url: string, fields: Record<string, string>) {
    const res = await fetch(new URL(url, this.base), {
      method: 'POST',
      headers: this.headers({ 'content-type': 'application/x-www-form-urlencoded' }),
      body: new URLSearchParams(fields),
      redirect: 'manual',
    });
    this.remember(res);
    return {
      status: res.status,
      location: res.headers.get('location'),
      html: await res.text(),
      headers: res.headers,
    };
  }

  forgetCookie(name: string) {
    this.cookies.delete(name);
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  /** What a cookie-injecting attacker (a sibling subdomain, a network position) can do. */
  setCookie(name: string, value: string) {
    this.cookies.set(name, value);
  }
}

const unescape = (s: string) =>
  s
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

/** The hidden inputs of the first form on a page (the authorization request and the CSRF token). */
export function hiddenFields(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g))
    out[unescape(m[1]!)] = unescape(m[2]!);
  return out;
}

/** Walks the login (or sign-up) and consent pages like a user would; returns the redirect. */
export async function approveInBrowser(
  t: { url: string },
  authorizationUrl: URL | string,
  user: { username: string; password: string; signup?: boolean },
) {
  const browser = new Browser(t.url);
  const login = await browser.get(authorizationUrl.toString());
  expect(login.status).toBe(200);
  const fields = hiddenFields(login.html);
  const step = user.signup
    ? await browser.post('/authorize/signup', {
        ...fields,
        username: user.username,
        email: `${user.username}@example.test`,
        password: user.password,
      })
    : await browser.post('/authorize/login', { ...fields, username: user.username, password: user.password });
  expect(step.status).toBe(303);
  const consent = await browser.get(step.location!);
  expect(consent.status).toBe(200);
  expect(consent.html).toContain('Allow access?');
  const decision = await browser.post('/authorize/consent', {
    ...hiddenFields(consent.html),
    decision: 'approve',
  });
  expect(decision.status).toBe(303);
  return new URL(decision.location!);
}
