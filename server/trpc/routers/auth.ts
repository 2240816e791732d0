// Who am I (and the CSRF token my page sends back with every action), and the users an
// admin manages.
import { z } from "zod";
import { performAction } from "../../actions/perform-action.ts";
import { can, PERMISSIONS, type Permission } from "../../auth/roles.ts";
import { createUser, listUsers, NewUserSchema } from "../../auth/users.ts";
import { actionProcedure, openProcedure, publicProcedure, readWith, router } from "../init.ts";

export const authRouter = router({
  me: openProcedure.query(({ ctx }) => {
    const actor = ctx.auth?.actor ?? null;
    return {
      actor,
      csrf: ctx.auth?.csrf ?? null,
      mode: ctx.actions?.mode ?? "production",
      problem: ctx.auth?.problem ?? null,
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
});
