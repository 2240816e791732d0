// The names of the failed tests, read from the runners' JSON reports, so the suite's summary
// (often the only part of a CI log anyone keeps) says which test failed and why in one line.
import { stripVTControlCharacters } from "node:util";
import { z } from "zod";

const MESSAGE_CHARS = 300;

const vitestReport = z.object({
  testResults: z.array(
    z.object({
      name: z.string(),
      status: z.string(),
      message: z.string().optional(),
      assertionResults: z.array(
        z.object({
          fullName: z.string(),
          status: z.string(),
          failureMessages: z.array(z.string()).nullish(),
        }),
      ),
    }),
  ),
});

interface PlaywrightSuite {
  specs?: {
    title: string;
    file: string;
    line: number;
    tests: { status: string; results: { error?: { message?: string } }[] }[];
  }[];
  suites?: PlaywrightSuite[];
}
const playwrightSuite: z.ZodType<PlaywrightSuite> = z.lazy(() =>
  z.object({
    specs: z
      .array(
        z.object({
          title: z.string(),
          file: z.string(),
          line: z.number(),
          tests: z.array(
            z.object({
              status: z.string(),
              results: z.array(z.object({ error: z.object({ message: z.string().optional() }).optional() })),
            }),
          ),
        }),
      )
      .optional(),
    suites: z.array(playwrightSuite).optional(),
  }),
);
const playwrightReport = z.object({ suites: z.array(playwrightSuite) });

/** The first line that says something, without terminal colours, cut to a readable length. */
export function firstLine(message: string | undefined): string {
  const plain = stripVTControlCharacters(message ?? "");
  const line = plain.split("\n").find((l) => l.trim() !== "") ?? "(no message)";
  const trimmed = line.trim();
  return trimmed.length > MESSAGE_CHARS ? `${trimmed.slice(0, MESSAGE_CHARS)}…` : trimmed;
}

// vitest 4 writes a timed-out test's stack under the placeholder it took the frames from, and its
// JSON report keeps only stacks: the reason would read "Error: STACK_TRACE_ERROR" (vitest
// issue 10872, open in 4.1.12, the newest 4.x).
const VITEST_TIMEOUT_PLACEHOLDER = "Error: STACK_TRACE_ERROR";

function vitestReason(failureMessage: string | undefined): string {
  const line = firstLine(failureMessage);
  return line === VITEST_TIMEOUT_PLACEHOLDER ? "timed out (its test or hook timeout)" : line;
}

/** `file › test: reason` for each failed vitest test, and for each file that failed to load. */
export function vitestFailures(json: unknown, root: string): string[] {
  const parsed = vitestReport.safeParse(json);
  if (!parsed.success) return ["(the vitest report could not be read)"];
  const failures: string[] = [];
  for (const file of parsed.data.testResults) {
    const name = file.name.startsWith(root) ? file.name.slice(root.length + 1) : file.name;
    const failed = file.assertionResults.filter((t) => t.status === "failed");
    for (const test of failed)
      failures.push(`${name} › ${test.fullName}: ${vitestReason(test.failureMessages?.[0])}`);
    if (failed.length === 0 && file.status === "failed") failures.push(`${name}: ${firstLine(file.message)}`);
  }
  return failures;
}

/** `file:line › title: reason` for each Playwright test that failed on every try. */
export function playwrightFailures(json: unknown): string[] {
  const parsed = playwrightReport.safeParse(json);
  if (!parsed.success) return ["(the Playwright report could not be read)"];
  const failures: string[] = [];
  const visit = (suite: PlaywrightSuite) => {
    for (const spec of suite.specs ?? []) {
      for (const test of spec.tests) {
        if (test.status !== "unexpected") continue;
        const error = test.results.find((r) => r.error)?.error;
        failures.push(`${spec.file}:${spec.line} › ${spec.title}: ${firstLine(error?.message)}`);
      }
    }
    for (const child of suite.suites ?? []) visit(child);
  };
  for (const suite of parsed.data.suites) visit(suite);
  return failures;
}
