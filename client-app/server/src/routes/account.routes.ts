import { Router, type Response } from 'express';
import { z } from 'zod';
import type { Account, AccountUpdate, DeactivateRequest, PasswordChange } from '../../../contract/bff-api.js';
import { BffError, parse, unauthenticated } from '../errors.js';
import { hashPassword, verifyPassword } from '../passwords.js';
import { destroySession, SESSION_COOKIE } from '../session.js';
import type { UserRow } from '../store/users.store.js';
import { grantOf, withPicard, type Deps } from './context.js';
import { emailSchema, newPasswordSchema } from './auth.routes.js';

const updateBody = z.object({ email: emailSchema }).strict() satisfies z.ZodType<AccountUpdate, unknown>;
const passwordBody = z
  .object({
    current_password: z
      .string({ error: 'current_password is required' })
      .min(1, 'current_password is required')
      .max(1024),
    new_password: newPasswordSchema('new_password'),
  })
  .strict() satisfies z.ZodType<PasswordChange, unknown>;
const deactivateBody = z.object({ password: z.string().max(1024).optional() }).strict() satisfies z.ZodType<
  DeactivateRequest,
  unknown
>;

const toAccount = (u: UserRow): Account => ({
  username: u.username,
  email: u.email,
  picard_user_id: u.picard_user_id,
  sign_in: u.sign_in,
  created_at: new Date(u.created_at).toISOString(),
});

const wrongPassword = (field: string) =>
  new BffError(400, 'invalid_argument', `${field} is not your current password.`, field);

/** The signed-in user's account, kept in step with the same account at Picard. */
export function accountRouter(deps: Deps): Router {
  const router = Router();

  const me = async (userId: string) => {
    const user = await deps.users.findById(userId);
    if (!user || user.deactivated_at) throw unauthenticated();
    return user;
  };

  router.get('/bff/account', async (req, res) => {
    const grant = grantOf(req);
    res.json(toAccount(await me(grant.userId)));
  });

  // Picard first: direct connect presents this email with every sign-in, so both must agree.
  router.patch('/bff/account', async (req, res) => {
    const grant = grantOf(req);
    const body = parse(updateBody, req.body ?? {});
    await me(grant.userId);
    await withPicard(deps, grant, (token) => deps.picard.updateMe(token, { email: body.email }));
    await deps.users.updateEmail(grant.userId, body.email);
    res.json(toAccount(await me(grant.userId)));
  });

  router.post('/bff/account/password', async (req, res) => {
    const grant = grantOf(req);
    const body = parse(passwordBody, req.body ?? {});
    const user = await me(grant.userId);
    if (user.sign_in === 'password') {
      if (!user.password_hash || !(await verifyPassword(body.current_password, user.password_hash))) {
        throw wrongPassword('current_password');
      }
      await deps.users.updatePasswordHash(user.id, await hashPassword(body.new_password));
    } else {
      // Picard checks the current password itself (and ends this account's other refresh tokens).
      await withPicard(deps, grant, (token) => deps.picard.changePassword(token, body));
    }
    res.status(204).end();
  });

  router.post('/bff/account/deactivate', async (req, res: Response) => {
    const grant = grantOf(req);
    const body = parse(deactivateBody, req.body ?? {});
    const user = await me(grant.userId);
    if (user.sign_in === 'password') {
      if (!body.password)
        throw new BffError(400, 'invalid_argument', 'password is required to deactivate.', 'password');
      if (!user.password_hash || !(await verifyPassword(body.password, user.password_hash))) {
        throw wrongPassword('password');
      }
    }
    await withPicard(deps, grant, (token) => deps.picard.deactivateMe(token));
    await deps.users.deactivate(user.id);
    await deps.vault.revokeAll(user.id);
    await destroySession(req);
    res.clearCookie(SESSION_COOKIE, { path: '/' });
    res.status(204).end();
  });
  return router;
}
