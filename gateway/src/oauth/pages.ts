/** Server-rendered pages of the authorization flow: no scripts, every value escaped. */
const escape = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

export type AuthorizeParams = Record<string, string>;

const hidden = (params: AuthorizeParams) =>
  Object.entries(params)
    .map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`)
    .join('\n      ');

const SCOPE_TEXT: Record<string, string> = {
  'memories:read': 'Read your memories and the public memories of others',
  'memories:write': 'Store, change and delete your memories',
  'memories:admin': 'Administer Picard (clients and users)',
};

/** The web app's palette and type (client-app/web/src/styles.css), so signing in looks like one product. */
const STYLE = `
  :root{--bg:#f6f7f9;--surface:#fff;--border:#d8dde5;--text:#1d2430;--muted:#5a6475;--accent:#2f5d8a;
    --accent-strong:#244a6f;--accent-soft:#e3ecf6;--danger:#a12a2a;--danger-bg:#fbeaea;--danger-border:#eab8b8;
    --radius:8px;--focus:0 0 0 3px rgba(47,93,138,.45);color-scheme:light;
    font:16px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif;color:var(--text);background:var(--bg)}
  *{box-sizing:border-box} body{margin:0;min-height:100vh;overflow-wrap:break-word}
  main{max-width:27rem;margin:3rem auto;padding:0 1rem}
  .brand{display:flex;align-items:center;gap:.5rem;font-weight:650;font-size:1.1rem;color:var(--accent-strong);margin-bottom:1rem}
  .brand svg{width:1.6rem;height:1.6rem}
  .card{background:var(--surface);border:1px solid var(--border);border-radius:var(--radius);padding:1.5rem;box-shadow:0 1px 2px rgba(29,36,48,.06)}
  h1{font-size:1.35rem;line-height:1.25;margin:0 0 .75rem}
  p{margin:.5rem 0} label{display:block;margin:.9rem 0 .25rem;font-weight:500}
  input[type=text],input[type=password],input[type=email]{width:100%;padding:.55rem .65rem;font:inherit;color:inherit;
    border:1px solid var(--border);border-radius:6px;background:#fff}
  input:focus,button:focus-visible,a:focus-visible{outline:none;box-shadow:var(--focus)}
  button{font:inherit;font-weight:550;padding:.55rem 1.2rem;border-radius:6px;border:1px solid var(--accent);cursor:pointer;
    background:var(--accent);color:#fff} button:hover{background:var(--accent-strong)}
  button.secondary{background:#fff;color:var(--accent-strong);border-color:var(--border)} button.secondary:hover{background:var(--accent-soft)}
  form>button{margin-top:1.25rem;width:100%} .row{display:flex;gap:.6rem;margin-top:1.25rem} .row button{flex:1}
  .error{background:var(--danger-bg);color:var(--danger);border:1px solid var(--danger-border);padding:.6rem .75rem;border-radius:6px}
  .muted{color:var(--muted);font-size:.9rem} a{color:var(--accent)}
  ul.scopes{list-style:none;padding:0;margin:.75rem 0;border:1px solid var(--border);border-radius:6px}
  ul.scopes li{padding:.6rem .75rem} ul.scopes li+li{border-top:1px solid var(--border)}
  ul.scopes code{display:block;font-size:.8rem;color:var(--muted)}
  .after{margin-top:1rem;text-align:center}
`;

/** Picard's mark, inline (the pages' Content-Security-Policy allows no images). */
const MARK =
  '<svg viewBox="0 0 24 24" aria-hidden="true"><circle cx="12" cy="12" r="11" fill="#2f5d8a"/>' +
  '<path d="M8 17V7h4.5a3.25 3.25 0 0 1 0 6.5H8" fill="none" stroke="#fff" stroke-width="2" stroke-linecap="round" stroke-linejoin="round"/></svg>';

function layout(title: string, body: string, after = ''): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Picard</title>
<style>${STYLE}</style></head><body>
<main>
<div class="brand">${MARK}<span>Picard</span></div>
<div class="card">
<h1>${escape(title)}</h1>
${body}
</div>
${after ? `<div class="after">${after}</div>` : ''}
</main>
</body></html>`;
}

/** A client named by a metadata-document URL chose its own name: show the host it really comes from. */
function clientLabel(name: string, clientId: string): string {
  const host = /^https?:\/\//i.test(clientId) ? new URL(clientId).host : undefined;
  return host ? `<strong>${escape(name)}</strong> (${escape(host)})` : `<strong>${escape(name)}</strong>`;
}

export function loginPage(o: {
  clientName: string;
  clientId: string;
  params: AuthorizeParams;
  csrf: string;
  error?: string;
  signup?: boolean;
}) {
  const action = o.signup ? '/authorize/signup' : '/authorize/login';
  const signupFields = o.signup
    ? `<label for="email">Email</label><input id="email" name="email" type="email" required>
      <label for="display_name">Display name (optional)</label><input id="display_name" name="display_name" type="text">`
    : '';
  const other = o.signup
    ? `<p class="muted">Already have an account? <a href="/authorize?${escape(new URLSearchParams(o.params).toString())}">Sign in</a></p>`
    : `<p class="muted">New to Picard? <a href="/authorize?${escape(new URLSearchParams({ ...o.params, signup: '1' }).toString())}">Create an account</a></p>`;
  return layout(
    o.signup ? 'Create your Picard account' : 'Sign in to Picard',
    `<p>${clientLabel(o.clientName, o.clientId)} wants to use your Picard memories.</p>
    ${o.error ? `<p class="error" role="alert">${escape(o.error)}</p>` : ''}
    <form method="post" action="${action}">
      ${hidden(o.params)}
      <input type="hidden" name="csrf" value="${escape(o.csrf)}">
      <label for="username">Username</label><input id="username" name="username" type="text" autocomplete="username" required>
      ${signupFields}
      <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="${o.signup ? 'new-password' : 'current-password'}" required>
      <button type="submit">${o.signup ? 'Create account' : 'Sign in'}</button>
    </form>`,
    other,
  );
}

export function consentPage(o: {
  clientName: string;
  clientId: string;
  redirectUri: string;
  username: string;
  scopes: string[];
  params: AuthorizeParams;
  csrf: string;
}) {
  const scopes = o.scopes
    .map((s) => `<li>${escape(SCOPE_TEXT[s] ?? s)}<code>${escape(s)}</code></li>`)
    .join('');
  return layout(
    'Allow access?',
    `<p>${clientLabel(o.clientName, o.clientId)} asks to act for <strong>${escape(o.username)}</strong>:</p>
    <ul class="scopes">${scopes}</ul>
    <p class="muted">You will be sent back to ${escape(o.redirectUri)}.</p>
    <form method="post" action="/authorize/consent">
      ${hidden(o.params)}
      <input type="hidden" name="csrf" value="${escape(o.csrf)}">
      <div class="row"><button type="submit" name="decision" value="deny" class="secondary">Deny</button>
      <button type="submit" name="decision" value="approve">Allow</button></div>
    </form>`,
  );
}

export function errorPage(title: string, message: string) {
  return layout(
    title,
    `<p class="error" role="alert">${escape(message)}</p>
    <p class="muted">The application that sent you here could not be told about this error safely; you can close this page.</p>`,
  );
}
