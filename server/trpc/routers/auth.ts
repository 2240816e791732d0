// Who am I (and the CSRF token my page sends back with every action), and the users an
// admin manages.
import "server-only";
import { z } from "zod";
import { UserChangeSchema } from "../../../browser-safe/new-user.ts";
import { can, PERMISSIONS, type Permission } from "../../../browser-safe/roles.ts";
import { performAction } from "../../actions/perform-action.ts";
import { changeUser, createUser, listUsers, NewUserSchema } from "../../auth/users.ts";
import { env } from "../../env.ts";
import { AppError } from "../../errors.ts";
import { actionProcedure, openProcedure, publicProcedure, readWith, router } from "../init.ts";

export const authRouter = router({
  me: openProcedure.query(({ ctx }) => {
    const actor = ctx.auth?.actor ?? null;
    return {
      actor,
      csrf: ctx.auth?.csrf ?? null,
      mode: ctx.actions?.mode ?? "production",
      problem: ctx.auth?.problem ?? null,
      /** "Sign in with …" on the sign-in page, when single sign-on is set up. */
      sso: env().SAGASCOPE_OIDC_ISSUER ? env().SAGASCOPE_OIDC_NAME : null,
      /** What this role may do, so the page shows only the buttons that would work. */
      permissions: Object.fromEntries(
        (Object.keys(PERMISSIONS) as Permission[]).map((p) => [p, actor ? can(actor.role, p) : false]),
      ) as Record<Permission, boolean>,
    };
  }),

  /** Admins only: who may sign in, with their roles, is not every viewer's business. */
  users: publicProcedure
    .use(readWith("users.manage", "the user list"))
    .query(({ ctx }) => listUsers(ctx.pool)),

  createUser: actionProcedure
    .input(NewUserSchema.extend({ idempotencyKey: z.string().min(8).max(200) }))
    .mutation(({ ctx, input }) => {
      const { idempotencyKey, password: _password, ...shown } = input;
      return performAction(
        ctx.pool,
        ctx.actor,
        {
          action: "users.create",
          permission: "users.manage",
          target: input.email,
          params: shown,
          idempotencyKey,
        },
        async () => {
          const user = await createUser(ctx.pool, input);
          return { phase: "done", message: `${user.email} created as ${user.role}` };
        },
      );
    }),

  /** Disable or enable a user, change their role, or give them a new password; effective on their next request. */
  changeUser: actionProcedure
    .input(
      z.object({
        email: z.email(),
        change: UserChangeSchema,
        idempotencyKey: z.string().min(8).max(200),
      }),
    )
    .mutation(({ ctx, input }) => {
      const { change } = input;
      return performAction(
        ctx.pool,
        ctx.actor,
        {
          action: `users.${change.kind}`,
          permission: "users.manage",
          target: input.email,
          // Never the password itself.
          params: change.kind === "role" ? { role: change.role } : {},
          idempotencyKey: input.idempotencyKey,
        },
        async () => {
          const user = await changeUser(ctx.pool, input.email, change).catch((error: unknown) => {
            // No such user, or the last admin: refused with the reason, nothing changed.
            if (error instanceof AppError && (error.code === "NOT_FOUND" || error.code === "CONFLICT"))
              return error;
            throw error;
          });
          if (user instanceof AppError) return { phase: "refused", message: user.message };
          const done = {
            disable: `${user.email} disabled: signed out everywhere`,
            enable: `${user.email} enabled`,
            role: `${user.email} is now ${user.role}`,
            password: `${user.email} has a new password: signed out everywhere`,
          };
          return { phase: "done", message: done[change.kind] };
        },
      );
    }),
});
