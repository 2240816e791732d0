// What an admin gives to add a user, with the messages the form shows; free of server-only
// imports so that the page validates with the very same rules before sending.
import { z } from "zod";
import { ROLES } from "./roles.ts";

export const NewUserSchema = z.object({
  email: z.email("an email address"),
  name: z.string().trim().min(1, "a name").max(200),
  role: z.enum(ROLES),
  password: z.string().min(12, "a password of 12 characters at least").max(200),
});
export type NewUser = z.infer<typeof NewUserSchema>;

/** What an admin changes about an existing user. */
export const UserChangeSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("disable") }),
  z.object({ kind: z.literal("enable") }),
  z.object({ kind: z.literal("role"), role: z.enum(ROLES) }),
  z.object({ kind: z.literal("password"), password: NewUserSchema.shape.password }),
]);
export type UserChange = z.infer<typeof UserChangeSchema>;
