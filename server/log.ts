// Line-oriented process logs: time, level, component, message, then key=value fields.
export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(component: string): Logger;
}

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

function formatField(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(value.message);
  if (typeof value === "string") return /[\s"=]/.test(value) ? JSON.stringify(value) : value;
  return JSON.stringify(value) ?? "undefined";
}

export function createLogger(component: string, level: LogLevel = "info"): Logger {
  const write = (at: LogLevel) => (message: string, fields?: LogFields) => {
    if (rank[at] < rank[level]) return;
    const extra = Object.entries(fields ?? {})
      .map(([k, v]) => ` ${k}=${formatField(v)}`)
      .join("");
    const line = `${new Date().toISOString()} ${at.toUpperCase().padEnd(5)} ${component}: ${message}${extra}`;
    (at === "error" || at === "warn" ? process.stderr : process.stdout).write(`${line}\n`);
  };
  return {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    child: (sub) => createLogger(`${component}/${sub}`, level),
  };
}
