// Prisma CLI configuration: where the schema and migrations live. Only `prisma generate`
// is used (see docs/database.md); migrations are applied by server/db/migrate.ts.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
