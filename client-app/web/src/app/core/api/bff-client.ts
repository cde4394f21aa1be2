/**
 * The one typed client of the BFF's JSON API (relative /bff/ URLs, so Angular's XSRF interceptor adds
 * X-XSRF-TOKEN to every state-changing call). Calls return promises; failures reject with the
 * HttpErrorResponse, which toBffError() turns into the contract's BffError.
 */
import { HttpClient, HttpParams } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import { firstValueFrom } from 'rxjs';
import type {
  Account,
  AccountUpdate,
  AdminSummary,
  DeactivateRequest,
  ForwardedTool,
  ImportJob,
  ImportRequest,
  LoginRequest,
  PasswordChange,
  SessionInfo,
  SignupRequest,
} from '@contract/bff-api';
import type { BffToolInput, BffToolResult } from './tool-types';

@Injectable({ providedIn: 'root' })
export class BffClient {
  private readonly http = inject(HttpClient);

  tool<N extends ForwardedTool>(name: N, input: BffToolInput<N>): Promise<BffToolResult<N>> {
    return firstValueFrom(this.http.post<{ result: BffToolResult<N> }>(`/bff/tools/${name}`, input)).then(
      (body) => body.result,
    );
  }

  session(): Promise<SessionInfo> {
    return firstValueFrom(this.http.get<SessionInfo>('/bff/session'));
  }

  signup(body: SignupRequest): Promise<SessionInfo> {
    return firstValueFrom(this.http.post<SessionInfo>('/bff/auth/signup', body));
  }

  login(body: LoginRequest): Promise<SessionInfo> {
    return firstValueFrom(this.http.post<SessionInfo>('/bff/auth/login', body));
  }

  logout(): Promise<void> {
    return firstValueFrom(this.http.post<void>('/bff/auth/logout', {}));
  }

  account(): Promise<Account> {
    return firstValueFrom(this.http.get<Account>('/bff/account'));
  }

  updateAccount(body: AccountUpdate): Promise<Account> {
    return firstValueFrom(this.http.patch<Account>('/bff/account', body));
  }

  changePassword(body: PasswordChange): Promise<void> {
    return firstValueFrom(this.http.post<void>('/bff/account/password', body));
  }

  deactivate(body: DeactivateRequest): Promise<void> {
    return firstValueFrom(this.http.post<void>('/bff/account/deactivate', body));
  }

  startImport(body: ImportRequest): Promise<ImportJob> {
    return firstValueFrom(this.http.post<{ job: ImportJob }>('/bff/imports', body)).then((b) => b.job);
  }

  importJob(id: string): Promise<ImportJob> {
    return firstValueFrom(this.http.get<{ job: ImportJob }>(`/bff/imports/${encodeURIComponent(id)}`)).then(
      (b) => b.job,
    );
  }

  adminSummary(): Promise<AdminSummary> {
    return firstValueFrom(this.http.get<AdminSummary>('/bff/admin/summary'));
  }

  /** The gateway's JSON as it is (a page of users and next_cursor). */
  adminUsers(limit: number, cursor?: string): Promise<unknown> {
    let params = new HttpParams().set('limit', limit);
    if (cursor) params = params.set('cursor', cursor);
    return firstValueFrom(this.http.get<unknown>('/bff/admin/users', { params }));
  }

  adminClients(): Promise<unknown> {
    return firstValueFrom(this.http.get<unknown>('/bff/admin/clients'));
  }
}
