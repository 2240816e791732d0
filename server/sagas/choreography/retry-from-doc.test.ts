// docs/sagas.md shows a participant in any language the relayed retry-from and its answer:
// both are what the contract's schemas accept, and the relay is what the library acts on.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sagaEventDataSchemas } from "../../events/index.ts";
import { CONTROL_COMMAND } from "./participant-commands.ts";

const doc = readFileSync("docs/sagas.md", "utf8");

describe("docs/sagas.md, retry-from in a participant of your own", () => {
  it("names the relay's type, and shows a command and an answer the contract accepts", () => {
    expect(doc).toContain(`\`ce_type\` is\n   \`${CONTROL_COMMAND}\``);
    const block = /<!-- retry-from-relay-example -->\n```json\n([\s\S]*?)```/.exec(doc)?.[1];
    if (!block) throw new Error("docs/sagas.md lost its retry-from example");
    const { command, result } = JSON.parse(block) as { command: unknown; result: unknown };
    const parsedCommand = sagaEventDataSchemas[CONTROL_COMMAND].parse(command);
    expect(parsedCommand).toMatchObject({ action: "retry-from", fromStep: 1 });
    const parsedResult = sagaEventDataSchemas["io.sagascope.control.result"].parse(result);
    expect(parsedResult).toMatchObject({ commandId: parsedCommand.commandId, outcome: "done" });
  });
});
