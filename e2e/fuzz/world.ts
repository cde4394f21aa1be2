import { createHash, randomBytes } from 'node:crypto';
import {
  ADMIN,
  basic,
  callTool,
  registerClient,
  startTestStack,
  userToken,
  type TestStack,
  type UserToken,
} from '../support/test-stack.js';
import { SCOPES } from '../../gateway/src/auth/scopes.js';

/**
 * Limits raised so that a flood of valid calls reaches the real handlers instead of a 429 after the
 * first few (export_memories allows 10 an hour by default, /register 20, a login 20 failures per
 * address). The limits themselves have their own suites; a 429 that still comes must name its reason.
 */
export const FUZZ_ENV: NodeJS.ProcessEnv = {
  GATEWAY_LOOKUP_USERS_PER_MINUTE: '1000000',
  GATEWAY_QUERY_USER_PER_MINUTE: '1000000',
  GATEWAY_EXPORTS_PER_HOUR: '1000000',
  GATEWAY_SIGNUPS_PER_HOUR: '1000000',
  GATEWAY_REGISTRATIONS_PER_HOUR: '1000000',
  GATEWAY_CLIENT_ID_URLS_PER_HOUR: '1000000',
  AUTH_DYNAMIC_CLIENTS_PER_SOURCE_PER_HOUR: '1000000',
  AUTH_DYNAMIC_CLIENTS_PER_HOUR: '1000000',
  AUTH_LOGIN_MAX_FAILURES_PER_IP: '1000000',
};

export const REDIRECT_URI = 'http://localhost:3000/callback';

type Client = Awaited<ReturnType<typeof registerClient>>;

/** A signed-in browser on the authorization pages: its cookies and the CSRF token its forms carry. */
export interface BrowserSession {
  cookie: string;
  csrf: string;
}

/** Everything a fuzz run talks to and the names it may use: real ids make valid inputs reach real rows. */
export interface World {
  t: TestStack;
  clients: { app: Client; operator: Client; spare: Client };
  fuzzer: UserToken;
  bystander: UserToken;
  /** Its tokens are offered to /revoke and /introspect. */
  revokee: UserToken;
  /** A bearer token of the admin with memories:admin, obtained through the authorization-code flow. */
  adminToken: string;
  session: BrowserSession;
  codeChallenge: string;
  known: {
    memoryIds: string[];
    groupIds: string[];
    userIds: string[];
    usernames: string[];
    exports: string[];
  };
  /** The token of the user that calls which deactivate their caller use (POST /api/users/me/deactivate). */
  disposableToken(): string;
  /** A fresh such user, once the last one was used up. */
  renewDisposable(): Promise<void>;
  /**
   * Saves the activity counters memory-service keeps in memory (it writes them every 2 s, or when
   * get_activity reads them), so they land before the next request rather than during it.
   */
  flushCounters(): Promise<void>;
  close(): Promise<void>;
}

const pkce = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

// support/browser.ts reads forms the same way, but it imports @jest/globals, which the benchmark cannot load.
const hiddenFields = (html: string) =>
  Object.fromEntries(
    [...html.matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)].map((m) => [
      m[1]!,
      m[2]!
        .replace(/&quot;/g, '"')
        .replace(/&#39;/g, "'")
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&'),
    ]),
  );

/**
 * The admin signs in on the authorization pages and approves the operator client, as an operator
 * would; the session (cookies and the consent page's CSRF token) is kept for fuzzing those pages.
 * Admin calls then use a bearer token: HTTP Basic costs a password hash per call.
 */
async function signInAdmin(t: TestStack, operator: Client) {
  const jar = new Map<string, string>();
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const send = async (path: string, form?: Record<string, string>) => {
    const res = await fetch(new URL(path, t.url), {
      method: form ? 'POST' : 'GET',
      headers: { cookie: cookie(), ...(form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body: form ? new URLSearchParams(form) : undefined,
      redirect: 'manual',
    });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const value = pair!.slice(eq + 1).trim();
      if (value) jar.set(pair!.slice(0, eq).trim(), value);
      else jar.delete(pair!.slice(0, eq).trim());
    }
    return { status: res.status, location: res.headers.get('location'), html: await res.text() };
  };
  const { verifier, challenge } = pkce();
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: operator.client_id,
    redirect_uri: REDIRECT_URI,
    scope: [SCOPES.read, SCOPES.write, SCOPES.admin].join(' '),
    state: 'fuzz',
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  const login = await send(`/authorize?${params}`);
  const step = await send('/authorize/login', {
    ...hiddenFields(login.html),
    username: ADMIN.username,
    password: ADMIN.password,
  });
  if (step.status !== 303) throw new Error(`admin sign-in failed: ${step.status}`);
  const consent = await send(step.location!);
  const fields = hiddenFields(consent.html);
  const session = { cookie: cookie(), csrf: fields.csrf ?? '' };
  const back = await send('/authorize/consent', { ...fields, decision: 'approve' });
  const code = back.location ? new URL(back.location).searchParams.get('code') : null;
  if (!code) throw new Error(`admin consent failed: ${back.status} ${back.location}`);
  const token = await fetch(`${t.url}/token`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: basic(operator.client_id, operator.client_secret),
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: REDIRECT_URI,
      code_verifier: verifier,
    }),
  });
  const json = (await token.json()) as { access_token?: string };
  if (!json.access_token) throw new Error(`admin token exchange failed: ${JSON.stringify(json)}`);
  return { adminToken: json.access_token, session, codeChallenge: challenge };
}

async function seed(t: TestStack, fuzzer: UserToken, bystander: UserToken) {
  const ok = async <R>(who: UserToken, tool: string, data: unknown): Promise<R> => {
    const res = await callTool(t, who.access_token, tool, data);
    if (res.status !== 200) throw new Error(`seeding ${tool} failed: ${res.status} ${res.text}`);
    return res.json.result as R;
  };
  const memory = async (who: UserToken, data: object) =>
    (await ok<{ id: string }>(who, 'submit_memory', data)).id;
  const memoryIds = [
    await memory(fuzzer, {
      text: 'The fuzzer likes property-based tests',
      permission: 'private',
      tags: ['fuzz'],
    }),
    await memory(fuzzer, { text: 'Lisbon trip in May', permission: 'public' }),
    await memory(fuzzer, {
      text: 'Shared with the bystander',
      permission: 'shared',
      shared_with: { users: [bystander.user_id] },
    }),
    await memory(bystander, { text: 'The bystander is public', permission: 'public' }),
  ];
  const groupIds = [(await ok<{ id: string }>(fuzzer, 'create_group', { name: 'fuzz group' })).id];
  await ok(fuzzer, 'add_group_member', { group_id: groupIds[0], user_id: bystander.user_id });
  // Files import_memories can read, so valid imports get past parsing.
  const exports: string[] = [];
  for (const format of ['json', 'ndjson', 'csv', 'markdown']) {
    exports.push((await ok<{ data: string }>(fuzzer, 'export_memories', { format })).data);
  }
  return { memoryIds, groupIds, exports };
}

export async function openWorld(): Promise<World> {
  const t = await startTestStack(FUZZ_ENV);
  try {
    const app = await registerClient(t);
    const operator = await registerClient(t, [SCOPES.read, SCOPES.write, SCOPES.admin]);
    const spare = await registerClient(t);
    const [fuzzer, bystander, revokee] = await Promise.all(
      ['fuzzer', 'bystander', 'revokee'].map((name) => userToken(t, app, name)),
    );
    let disposables = 0;
    let disposable = await userToken(t, app, `disposable-${disposables}`);
    const seeded = await seed(t, fuzzer!, bystander!);
    const admin = await signInAdmin(t, operator);
    return {
      t,
      clients: { app, operator, spare },
      fuzzer: fuzzer!,
      bystander: bystander!,
      revokee: revokee!,
      ...admin,
      known: {
        ...seeded,
        userIds: [fuzzer!.user_id, bystander!.user_id],
        usernames: ['fuzzer', 'bystander', 'revokee', ADMIN.username, 'nobody-at-all'],
      },
      disposableToken: () => disposable.access_token,
      async renewDisposable() {
        disposable = await userToken(t, app, `disposable-${(disposables += 1)}`);
      },
      async flushCounters() {
        const res = await callTool(t, fuzzer!.access_token, 'get_activity', {});
        if (res.status !== 200) throw new Error(`get_activity failed: ${res.status} ${res.text}`);
      },
      close: () => t.stop(),
    };
  } catch (err) {
    await t.stop();
    throw err;
  }
}
