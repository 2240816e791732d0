// A participant's report of a parked message is stored as the original message, where it came from.
import type { KafkaMessage } from "kafkajs";
import { describe, expect, it } from "vitest";
import { reportedDeadLetter } from "./store-kafka-batch.ts";

const own = { topic: "sagascope.dead-letters", partition: 0, offset: 7 };
const message = (headers: Record<string, string>, value: string) =>
  ({
    key: Buffer.from(Buffer.from("order-1").toString("base64")),
    value: Buffer.from(value),
    headers,
  }) as unknown as KafkaMessage;

describe("reportedDeadLetter", () => {
  it("restores the original bytes, position and headers, with the reason", () => {
    const original = Buffer.from([0x7b, 0x00, 0xff]);
    const letter = reportedDeadLetter(
      message(
        {
          ce_type: "shop.payment-captured",
          "sagascope-encoding": "base64",
          "sagascope-origin": "fleet.checkout-events/3/1234",
          "sagascope-reason": "parked by inventory: value is not JSON",
        },
        original.toString("base64"),
      ),
      own,
    );
    expect(letter).toEqual({
      position: { topic: "fleet.checkout-events", partition: 3, offset: 1234 },
      key: Buffer.from("order-1"),
      value: original,
      headers: { ce_type: "shop.payment-captured" },
      reason: "parked by inventory: value is not JSON",
    });
  });

  it("keeps a report without an origin where it is, and says so", () => {
    const letter = reportedDeadLetter(message({}, "raw"), own);
    expect(letter.position).toEqual(own);
    expect(letter.reason).toMatch(/without a reason/);
    expect(letter.value).toEqual(Buffer.from("raw"));
  });
});
