import { authPb } from '@picard/proto';
import { requireCaller, unary, type Logger } from '@picard/service-kit';
import type { AuthDomain } from '../domain/auth.domain.js';
import { requireAdminAccount } from '../domain/access.js';
import type { AuthStore } from '../store/auth.store.js';
import {
  encodeCheck,
  encodeClient,
  encodeConsent,
  encodeCutoff,
  encodeUser,
  encodeUserRef,
} from './auth.codec.js';

/** decode → domain → encode; nothing else. */
export function createAuthHandlers(
  domain: AuthDomain,
  store: AuthStore,
  logger: Logger,
): authPb.AuthServiceServer {
  return {
    // At start-up the service calls the domain directly; over gRPC only an admin may (re)set the admin.
    ensureAdmin: unary(logger, 'EnsureAdmin', async (req: authPb.EnsureAdminRequest, call) => {
      await requireAdminAccount(store, requireCaller(call.metadata));
      return encodeUser(await domain.users.ensureAdmin(req));
    }),
    registerUser: unary(logger, 'RegisterUser', async (req: authPb.RegisterUserRequest) =>
      encodeUser(await domain.users.register(req)),
    ),
    authenticateUser: unary(logger, 'AuthenticateUser', async (req: authPb.AuthenticateUserRequest) =>
      encodeUser(await domain.users.authenticate(req.username, req.password, req.remoteIp)),
    ),
    getUser: unary(logger, 'GetUser', async (req: authPb.GetUserRequest, call) =>
      encodeUser(await domain.users.getUser(requireCaller(call.metadata), req.userId)),
    ),
    updateUser: unary(logger, 'UpdateUser', async (req: authPb.UpdateUserRequest, call) =>
      encodeUser(await domain.users.update(requireCaller(call.metadata), req)),
    ),
    changePassword: unary(logger, 'ChangePassword', async (req: authPb.ChangePasswordRequest, call) =>
      encodeUser(await domain.users.changePassword(requireCaller(call.metadata), req)),
    ),
    deactivateUser: unary(logger, 'DeactivateUser', async (req: authPb.DeactivateUserRequest, call) =>
      encodeUser(await domain.users.deactivate(requireCaller(call.metadata), req.userId)),
    ),
    listUsers: unary(logger, 'ListUsers', async (req: authPb.ListUsersRequest, call) => {
      const page = await domain.users.list(requireCaller(call.metadata), req);
      return { users: page.users.map(encodeUser), nextCursor: page.nextCursor };
    }),
    lookupUsers: unary(logger, 'LookupUsers', async (req: authPb.LookupUsersRequest, call) => ({
      users: (await domain.users.lookup(requireCaller(call.metadata), req)).map(encodeUserRef),
    })),

    registerClient: unary(logger, 'RegisterClient', async (req: authPb.RegisterClientRequest, call) => {
      const { client, secret } = await domain.clients.register(requireCaller(call.metadata), req);
      return { client: encodeClient(client), clientSecret: secret };
    }),
    registerDynamicClient: unary(
      logger,
      'RegisterDynamicClient',
      async (req: authPb.RegisterClientRequest) => {
        const { client, secret } = await domain.clients.registerDynamic(req);
        return { client: encodeClient(client), clientSecret: secret };
      },
    ),
    getClient: unary(logger, 'GetClient', async (req: authPb.GetClientRequest, call) =>
      encodeClient(await domain.clients.get(requireCaller(call.metadata), req.clientId)),
    ),
    listClients: unary(logger, 'ListClients', async (_req: authPb.ListClientsRequest, call) => ({
      clients: (await domain.clients.list(requireCaller(call.metadata))).map(encodeClient),
    })),
    updateClient: unary(logger, 'UpdateClient', async (req: authPb.UpdateClientRequest, call) =>
      encodeClient(await domain.clients.update(requireCaller(call.metadata), req)),
    ),
    deleteClient: unary(logger, 'DeleteClient', async (req: authPb.DeleteClientRequest, call) => ({
      clientId: req.clientId,
      deleted: await domain.clients.delete(requireCaller(call.metadata), req.clientId),
    })),
    rotateClientSecret: unary(
      logger,
      'RotateClientSecret',
      async (req: authPb.RotateClientSecretRequest, call) => {
        const { client, secret } = await domain.clients.rotateSecret(
          requireCaller(call.metadata),
          req.clientId,
        );
        return { client: encodeClient(client), clientSecret: secret };
      },
    ),

    issueUserToken: unary(logger, 'IssueUserToken', async (req: authPb.IssueUserTokenRequest) =>
      domain.tokens.issueUserToken(req),
    ),
    token: unary(logger, 'Token', (req: authPb.OAuthRequest) => domain.token(req)),
    checkAuthorization: unary(logger, 'CheckAuthorization', async (req: authPb.AuthorizeRequest) =>
      encodeCheck(await domain.authorization.check(req)),
    ),
    authorize: unary(logger, 'Authorize', async (req: authPb.AuthorizeRequest, call) => ({
      redirectTo: await domain.authorization.authorize(requireCaller(call.metadata), req),
    })),
    revoke: unary(logger, 'Revoke', (req: authPb.OAuthRequest) => domain.revoke(req)),
    introspect: unary(logger, 'Introspect', (req: authPb.OAuthRequest) => domain.introspect(req)),
    listRevocations: unary(logger, 'ListRevocations', async (req: authPb.ListRevocationsRequest) => ({
      revocations: (await domain.tokens.listRevocations(req.since)).map((r) => ({
        jti: r.jti,
        expiresAt: r.expires_at,
      })),
      // Every live cut-off, whatever `since` says: there are few, and a starting gateway needs them all.
      cutoffs: (await domain.tokens.listCutoffs()).map(encodeCutoff),
    })),
    listConsents: unary(logger, 'ListConsents', async (req: authPb.ListConsentsRequest, call) => ({
      consents: (await domain.users.listConsents(requireCaller(call.metadata), req.userId)).map(
        encodeConsent,
      ),
    })),
    withdrawConsent: unary(logger, 'WithdrawConsent', async (req: authPb.WithdrawConsentRequest, call) => ({
      clientId: req.clientId,
      withdrawn: await domain.users.withdrawConsent(requireCaller(call.metadata), req),
    })),

    getJwks: unary(logger, 'GetJwks', async () => ({
      keysJson: JSON.stringify(await domain.keys.currentJwks()),
    })),
  };
}
