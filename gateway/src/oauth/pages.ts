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

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Picard</title>
<style>
  body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1d2430}
  h1{font-size:1.4rem} label{display:block;margin:.8rem 0 .2rem} input[type=text],input[type=password],input[type=email]{width:100%;padding:.5rem;box-sizing:border-box}
  button{margin-top:1rem;padding:.55rem 1.1rem;font-size:1rem} .error{background:#fde8e8;color:#8a1c1c;padding:.6rem;border-radius:4px}
  .muted{color:#5b6472;font-size:.9rem} ul{padding-left:1.2rem} .row{display:flex;gap:.6rem}
</style></head><body>
<h1>${escape(title)}</h1>
${body}
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
    </form>
    ${other}`,
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
    .map((s) => `<li><code>${escape(s)}</code>: ${escape(SCOPE_TEXT[s] ?? s)}</li>`)
    .join('');
  return layout(
    'Allow access?',
    `<p>${clientLabel(o.clientName, o.clientId)} asks to act for <strong>${escape(o.username)}</strong>:</p>
    <ul>${scopes}</ul>
    <p class="muted">You will be sent back to ${escape(o.redirectUri)}.</p>
    <form method="post" action="/authorize/consent">
      ${hidden(o.params)}
      <input type="hidden" name="csrf" value="${escape(o.csrf)}">
      <div class="row"><button type="submit" name="decision" value="approve">Allow</button>
      <button type="submit" name="decision" value="deny">Deny</button></div>
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
