import type { Logger } from 'pino';
import { BffError, picardUnavailable, type ItemError } from './errors.js';

/** Picard answered with an error status; `body` is its JSON error ({error, message, field?, errors?}). */
export class PicardHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: { error?: string; message?: string; field?: string; errors?: unknown[] },
  ) {
    super(body.message ?? `Picard answered ${status}`);
  }

  /** Picard's 4xx become the BFF's own answer as they are (code, message, field, per-item errors). */
  toBffError(): BffError {
    if (this.status >= 500) {
      return new BffError(502, 'picard_error', 'Picard could not complete the request; please try again.');
    }
    const errors = Array.isArray(this.body.errors)
      ? (this.body.errors as Record<string, unknown>[]).map((e): ItemError => ({
          index: Number(e.index),
          ...(typeof e.field === 'string' ? { field: e.field } : {}),
          message: String(e.message ?? ''),
        }))
      : undefined;
    return new BffError(
      this.status,
      this.body.error ?? 'picard_error',
      this.body.message ?? `Picard refused the request (${this.status}).`,
      this.body.field,
      errors,
    );
  }
}

export interface TokenResponse {
  access_token: string;
  refresh_token: string;
  expires_in: number;
  scope: string;
  user_id?: string;
}

export interface PicardUser {
  id: string;
  username: string;
  email: string;
  display_name: string;
  is_admin: boolean;
  active: boolean;
}

export interface Progress {
  progress: number;
  total?: number;
  message?: string;
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
}

type Auth = { bearer: string } | { basic: { username: string; password: string } } | undefined;

/**
 * The one place that calls Picard's gateway: its public REST endpoints and its MCP endpoint, like
 * any third-party application. Tokens pass through here and nowhere near a log line.
 */
export class PicardClient {
  constructor(
    private readonly baseUrl: string,
    private readonly logger: Logger,
  ) {}

  private async request<T>(method: string, path: string, auth: Auth, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (auth && 'bearer' in auth) headers.authorization = `Bearer ${auth.bearer}`;
    if (auth && 'basic' in auth) {
      const { username, password } = auth.basic;
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(130_000),
      });
    } catch (err) {
      this.logger.warn({ path, cause: (err as Error).message }, 'Picard unreachable');
      throw picardUnavailable();
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      if (res.status >= 500) this.logger.warn({ path, status: res.status }, 'Picard failed');
      throw new PicardHttpError(res.status, (json ?? {}) as PicardHttpError['body']);
    }
    return json as T;
  }

  /** POST /api/tools {tool, data} → result. */
  async tool<T = unknown>(token: string, tool: string, data: unknown): Promise<T> {
    const r = await this.request<{ result: T }>('POST', '/api/tools', { bearer: token }, { tool, data });
    return r.result;
  }

  /** Direct connect: a first-party client gets a user's tokens. */
  userToken(client: ClientCredentials, user: { username: string; email: string }): Promise<TokenResponse> {
    return this.request('POST', '/api/user-tokens/user-token', undefined, {
      client_id: client.clientId,
      client_secret: client.clientSecret,
      username: user.username,
      email: user.email,
      create_if_missing: true,
    });
  }

  me(token: string): Promise<PicardUser> {
    return this.request('GET', '/api/users/me', { bearer: token });
  }

  updateMe(token: string, update: { email: string }): Promise<PicardUser> {
    return this.request('PATCH', '/api/users/me', { bearer: token }, update);
  }

  changePassword(token: string, change: { current_password: string; new_password: string }): Promise<void> {
    return this.request('POST', '/api/users/me/password', { bearer: token }, change);
  }

  deactivateMe(token: string): Promise<PicardUser> {
    return this.request('POST', '/api/users/me/deactivate', { bearer: token }, {});
  }

  /** GET /api/admin/<path> with a bearer token carrying memories:admin. */
  admin<T = unknown>(token: string, path: string, query: Record<string, string> = {}): Promise<T> {
    const qs = new URLSearchParams(query).toString();
    return this.request('GET', `/api/admin/${path}${qs ? `?${qs}` : ''}`, { bearer: token });
  }

  registerClient(
    admin: { username: string; password: string },
    body: { client_name: string; redirect_uris: string[]; scopes: string[] },
  ): Promise<{ client_id: string; client_secret: string; scopes: string[] }> {
    return this.request('POST', '/api/admin/clients/register', { basic: admin }, body);
  }

  /**
   * A tool called over MCP (Streamable HTTP), for the progress notifications REST cannot carry.
   * A tool error comes back as PicardHttpError, like the REST answer would.
   */
  async mcpTool<T = unknown>(
    token: string,
    name: string,
    args: Record<string, unknown>,
    onprogress: (p: Progress) => void,
    signal?: AbortSignal,
  ): Promise<T> {
    // Loaded on first use (imports only): ~0.1 s of the web app's start otherwise.
    const { Client, StreamableHTTPClientTransport } = await import('@modelcontextprotocol/client');
    const client = new Client({ name: 'picard-web-bff', version: '0.1.0' });
    const transport = new StreamableHTTPClientTransport(new URL(`${this.baseUrl}/mcp`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
    });
    // The SDK reports a response stream cut before its answer (the connection lost, the gateway
    // restarted) as an error event only, and the call would wait for its timeout: end it then.
    const cut = new AbortController();
    client.onerror = (err) => {
      if (/SSE stream disconnected/.test(err.message)) cut.abort(err);
    };
    try {
      try {
        await client.connect(transport);
      } catch (err) {
        throw this.mcpFailure(err);
      }
      let result;
      try {
        result = await client.callTool(
          { name, arguments: args },
          {
            onprogress: (p) => onprogress(p as Progress),
            resetTimeoutOnProgress: true,
            timeout: 130_000,
            maxTotalTimeout: 30 * 60_000,
            signal: signal ? AbortSignal.any([signal, cut.signal]) : cut.signal,
          },
        );
      } catch (err) {
        if (cut.signal.aborted && !signal?.aborted) throw picardUnavailable();
        throw this.mcpFailure(err);
      }
      if (result.isError) throw toolErrorOf(result.content);
      return result.structuredContent as T;
    } finally {
      await client.close().catch(() => undefined);
    }
  }

  private mcpFailure(err: unknown): Error {
    if (err instanceof PicardHttpError || err instanceof BffError) return err;
    const e = err as { status?: number; message?: string; cause?: { code?: string } };
    const status = e.status ?? Number(/\(HTTP (\d{3})\)/.exec(e.message ?? '')?.[1] ?? NaN);
    if (status === 401 || err?.constructor?.name === 'UnauthorizedError') {
      return new PicardHttpError(401, { error: 'unauthenticated', message: 'token refused' });
    }
    if (status === 413) {
      return new PicardHttpError(413, {
        error: 'payload_too_large',
        message: 'Picard refused the file as too large; split it into smaller files.',
        field: 'data',
      });
    }
    if (status >= 400 && status < 500) {
      const body = /\{.*\}$/s.exec(e.message ?? '')?.[0];
      try {
        return new PicardHttpError(status, JSON.parse(body ?? '{}'));
      } catch {
        return new PicardHttpError(status, {});
      }
    }
    if (/fetch failed|ECONNREFUSED|ENOTFOUND|socket/i.test(`${e.message} ${e.cause?.code ?? ''}`)) {
      return picardUnavailable();
    }
    this.logger.warn({ cause: e.message }, 'MCP call failed');
    return new BffError(502, 'picard_error', 'Picard could not complete the request; please try again.');
  }
}

/**
 * The gateway's MCP tool errors: a refused batch is JSON text ({error, message, errors}); any other
 * error is `code (field): message` or `code: message`.
 */
export function toolErrorOf(content: unknown): PicardHttpError {
  const text = Array.isArray(content)
    ? content.map((c: { type?: string; text?: string }) => (c.type === 'text' ? (c.text ?? '') : '')).join('')
    : '';
  try {
    const body = JSON.parse(text) as PicardHttpError['body'];
    if (body && typeof body === 'object' && body.error) return new PicardHttpError(400, body);
  } catch {
    // not JSON: the one-line form
  }
  const m = /^([a-z_]+)(?: \(([^)]*)\))?: (.*)$/s.exec(text);
  if (!m) return new PicardHttpError(400, { error: 'picard_error', message: text || 'the tool failed' });
  const [, code, field, message] = m;
  return new PicardHttpError(STATUS_OF[code!] ?? 400, { error: code, message, ...(field ? { field } : {}) });
}

/** The gateway's error table, for MCP tool errors that carry only the code. */
const STATUS_OF: Record<string, number> = {
  invalid_argument: 400,
  unprocessable: 422,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  already_exists: 409,
  conflict: 409,
  resource_exhausted: 429,
  unavailable: 503,
  deadline_exceeded: 504,
  unimplemented: 501,
  internal: 500,
};
