// Prisma only reads, only in server/dashboard (scripts/test/database-access.ts, docs/database.md).
import { describe, expect, it } from "vitest";
import { prismaBreaches, prismaCalls } from "./database-access.ts";

describe("database access", () => {
  it("finds no Prisma call outside the rule in product code", () => {
    expect(prismaBreaches().map((b) => `${b.file}:${b.line} ${b.call}: ${b.why}`)).toEqual([]);
  });

  it("tells reads from writes, wherever the call is split", () => {
    const text = [
      "const a = await prisma.deadLetter.findMany({ take: 5 });",
      "await prisma.sagaEvent",
      "  .create({ data });",
      "const rows = await prisma.$queryRaw<Row[]>`SELECT 1`;",
      "await prisma.$executeRaw`DELETE FROM t`;",
      "const n = notprisma.deadLetter.delete();",
    ].join("\n");
    expect(prismaCalls(text)).toEqual([
      { line: 1, call: "deadLetter.findMany", method: "findMany" },
      { line: 2, call: "sagaEvent.create", method: "create" },
      { line: 4, call: "$queryRaw", method: "$queryRaw" },
      { line: 5, call: "$executeRaw", method: "$executeRaw" },
    ]);
  });
});
