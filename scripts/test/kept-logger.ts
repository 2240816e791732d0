// A Logger that keeps its lines for a test to read, and prints nothing.
import type { Logger, LogLevel } from "../../server/log.ts";

/** Every line goes into `lines` as "<level> <component>: <message>". */
export function keptLogger(lines: string[], component = "test"): Logger {
  const keep = (level: LogLevel) => (message: string) => lines.push(`${level} ${component}: ${message}`);
  return {
    debug: keep("debug"),
    info: keep("info"),
    warn: keep("warn"),
    error: keep("error"),
    child: (sub) => keptLogger(lines, `${component}/${sub}`),
  };
}
