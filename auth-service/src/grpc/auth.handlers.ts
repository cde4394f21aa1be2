import { authPb } from '@picard/proto';
import { notYet, requireCaller, unary, type Logger } from '@picard/service-kit';
import type { AuthDomain } from '../domain/auth.domain.js';
import { requireAdminAccount } from '../domain/access.js';
import type { AuthStore } from '../store/auth.store.js';
import { encodeClient, encodeUser } from './auth.codec.js';

const LATER = 3;

/** decode → domain → encode; nothing else. */
export function createAuthHandlers(domain: AuthDomain, store: AuthStore, logger: Logger): authPb.AuthServiceServer {
  const later = <Req, Res>(name: string) =>
    unary<Req, Res>(logger, name, async () => {
      throw notYet(name, LATER);
    });

  return {
    // At start-up the service calls the domain directly; over gRPC only an admin may (re)set the admin.
    ensureAdmin: unary(logger, 'EnsureAdmin', async (req: authPb.EnsureAdminRequest, call) => {
      await requireAdminAccount(store, requireCaller(call.metadata));
      return encodeUser(await domain.users.ensureAdmin(req));
    }),
    authenticateUser: unary(logger, 'AuthenticateUser', async (req: authPb.AuthenticateUserRequest) =>
      encodeUser(await domain.users.authenticate(req.username, req.password)),
    ),
    getUser: unary(logger, 'GetUser', async (req: authPb.GetUserRequest, call) =>
      encodeUser(await domain.users.getUser(requireCaller(call.metadata), req.userId)),
    ),
    registerUser: later('RegisterUser'),
    updateUser: later('UpdateUser'),
    changePassword: later('ChangePassword'),
    deactivateUser: later('DeactivateUser'),
    listUsers: later('ListUsers'),

    registerClient: unary(logger, 'RegisterClient', async (req: authPb.RegisterClientRequest, call) => {
      const { client, secret } = await domain.clients.register(requireCaller(call.metadata), req);
      return { client: encodeClient(client), clientSecret: secret };
    }),
    getClient: unary(logger, 'GetClient', async (req: authPb.GetClientRequest, call) =>
      encodeClient(await domain.clients.get(requireCaller(call.metadata), req.clientId)),
    ),
    listClients: unary(logger, 'ListClients', async (_req: authPb.ListClientsRequest, call) => ({
      clients: (await domain.clients.list(requireCaller(call.metadata))).map(encodeClient),
    })),
    updateClient: later('UpdateClient'),
    deleteClient: later('DeleteClient'),
    rotateClientSecret: later('RotateClientSecret'),

    issueUserToken: unary(logger, 'IssueUserToken', async (req: authPb.IssueUserTokenRequest) =>
      domain.tokens.issueUserToken(req),
    ),
    token: unary(logger, 'Token', (req: authPb.OAuthRequest) => domain.token(req)),
    revoke: unary(logger, 'Revoke', (req: authPb.OAuthRequest) => domain.revoke(req)),
    introspect: unary(logger, 'Introspect', (req: authPb.OAuthRequest) => domain.introspect(req)),
    authorize: later('Authorize'),
    listRevocations: unary(logger, 'ListRevocations', async (req: authPb.ListRevocationsRequest) => ({
      revocations: (await domain.tokens.listRevocations(req.since)).map((r) => ({ jti: r.jti, expiresAt: r.expires_at })),
    })),

    getJwks: unary(logger, 'GetJwks', async () => ({ keysJson: JSON.stringify(domain.keys.jwks()) })),
  };
}
