// Configuration of Sagascope's own processes (web, ingester, projector, tools): the one module
// that reads their process.env, parsed and checked with zod. The demo fleet's settings are
// its own (server/fleet/fleet-env.ts): a product process never reads or checks them.
import { z } from "zod";

/** The most sagas (or dead letters) one bulk action may touch, unless SAGASCOPE_BULK_CAP says otherwise. */
export const DEFAULT_BULK_CAP = 200;
/** The most sagas one bulk operation works through, and sagas a second it sends commands to, unless configured. */
export const DEFAULT_OPERATION_CAP = 100_000;
export const DEFAULT_OPERATION_RATE = 100;

export const hostPort = z.string().regex(/^[^\s:,]+:\d{1,5}$/, "expected host:port");

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "expected a postgres:// or postgresql:// URL")
    .default("postgresql://postgres@127.0.0.1:5432/sagascope"),
  /**
   * Who runs the migrations (and so owns the schema), when the processes' DATABASE_URL is a
   * login in the sagascope_runtime role, which may not change the schema (docs/deployment.md).
   */
  SAGASCOPE_MIGRATION_DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "expected a postgres:// or postgresql:// URL")
    .optional(),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "expected a redis:// or rediss:// URL")
    .default("redis://127.0.0.1:6379/0"),
  KAFKA_BROKERS: z
    .string()
    .default("127.0.0.1:9092")
    .transform((list) =>
      list
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(hostPort).min(1, "at least one broker")),
  /** Prepended to every topic name, so that test runs never touch the demo's topics. */
  SAGASCOPE_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]*$/, "letters, digits, '.', '_' or '-' only")
    .default(""),
  SAGASCOPE_INGEST_GROUP: z.string().min(1).default("sagascope-ingester"),
  /**
   * Partitions whose batches the ingester stores at once, each in a transaction (and a
   * connection) of its own. Kafka is asked for more only when a fetch's batches are stored, in
   * rounds of this many: fewer than the topics' partitions, and an event waits for the rounds
   * before its own (docs/database.md). Unset: the partitions of the topics Sagascope makes (6).
   */
  SAGASCOPE_INGEST_PARTITIONS_AT_ONCE: z.coerce.number().int().min(1).max(32).optional(),
  /** A saga whose next event is this late (past its attempt's timeout) is reported stuck. */
  SAGASCOPE_STUCK_GRACE_MS: z.coerce.number().int().min(0).max(86_400_000).default(30_000),
  /**
   * How late past a deadline its producer announced (a participant's timeout) a saga is
   * reported stuck: the pipeline's own delay; never more than SAGASCOPE_STUCK_GRACE_MS.
   */
  SAGASCOPE_STUCK_DEADLINE_GRACE_MS: z.coerce.number().int().min(0).max(86_400_000).default(2_000),
  /**
   * Consumer groups to watch as projections: `name=group` or `name=group@topic,topic`,
   * separated by `;` (server/projections/declared-projections.ts). Read by the ingester.
   */
  SAGASCOPE_PROJECTIONS: z.string().max(20_000).default(""),
  /** How often the ingester samples each declared projection's lag. */
  SAGASCOPE_PROJECTION_SAMPLE_MS: z.coerce.number().int().min(500).max(600_000).default(5_000),
  /** How often one ingester samples every consumer group's lag (the Kafka page's chart and estimate). */
  SAGASCOPE_GROUP_SAMPLE_MS: z.coerce.number().int().min(500).max(600_000).default(10_000),
  /**
   * The most bytes the projector fetches from one partition at a time: the size of its largest
   * batch (a single larger change still comes alone). Three such batches are applied at once,
   * and eight at most are held. Unset: the projector's own default (4 MiB, projector.ts).
   */
  SAGASCOPE_PROJECTOR_BATCH_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(64 * 1024 * 1024)
    .optional(),
  /** Generations of the projector's read model kept after a rebuild switches (the active one included). */
  SAGASCOPE_PROJECTION_KEEP_GENERATIONS: z.coerce.number().int().min(1).max(50).default(2),
  /**
   * Months of saga events kept (the current one included); older months are dropped whole by
   * the ingester, with their sagas' summaries. 0 keeps everything.
   */
  SAGASCOPE_RETENTION_MONTHS: z.coerce.number().int().min(0).max(1200).default(0),
  /** How often the ingester applies the retention. */
  SAGASCOPE_RETENTION_EVERY_MS: z.coerce.number().int().min(1000).max(86_400_000).default(3_600_000),
  SAGASCOPE_STUCK_SWEEP_MS: z.coerce.number().int().min(50).max(3_600_000).default(5_000),
  /** A command to a choreographed saga, or one its orchestrator did not declare it answers, unanswered this long is settled by its silence (answer-deadline.ts). */
  SAGASCOPE_CHOREOGRAPHY_ANSWER_MS: z.coerce.number().int().min(1000).max(3_600_000).default(120_000),
  /** Where the local infrastructure keeps Kafka's jars, data, logs and pid files. */
  // No default here: this module is part of the web bundle, whose build would trace the
  // directory a literal path points to (Kafka's data, thousands of files). See scripts/infra.
  SAGASCOPE_HOME: z.string().min(1).optional(),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  /** This process's /metrics, /healthz and /readyz port (none when unset; 0: any free port). */
  SAGASCOPE_METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  SAGASCOPE_METRICS_HOST: z.string().min(1).default("127.0.0.1"),
  /** The ingester is not ready (/readyz 503) while more messages than this wait for it. */
  SAGASCOPE_READY_MAX_LAG: z.coerce.number().int().min(0).default(10_000),
  /** The web app's /metrics asks for this bearer token when it is set (required in production). */
  SAGASCOPE_METRICS_TOKEN: z.string().min(16, "at least 16 characters").optional(),
  /** Exports every ended saga as a trace over OTLP/HTTP here (`<endpoint>/v1/traces`); off when unset. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** The same for traces alone, as the full URL (takes precedence). */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  /** The standard sampler settings: always_on (default), always_off, traceidratio (+ the ratio). */
  OTEL_TRACES_SAMPLER: z.string().max(100).optional(),
  OTEL_TRACES_SAMPLER_ARG: z.string().max(100).optional(),
  /** Alert rules kept in git: a JSON file (docs/monitoring/README.md, "Alerts"). */
  SAGASCOPE_ALERT_RULES_FILE: z.string().min(1).optional(),
  /** Where alerts go: `name=generic|slack|alertmanager:url`, separated by `;` or spaces. */
  SAGASCOPE_ALERT_WEBHOOKS: z.string().max(20_000).default(""),
  /** How often the alert rules are evaluated. */
  SAGASCOPE_ALERT_EVAL_MS: z.coerce.number().int().min(500).max(600_000).default(5_000),
  /** The dashboard's address as its users reach it: the alerts' links start with it. */
  SAGASCOPE_PUBLIC_URL: z.url().optional(),
  SAGASCOPE_LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
  /**
   * demo: a visitor who has not signed in acts as the demo operator and the fault panel is
   * shown; production: nothing without signing in, no fault panel.
   */
  SAGASCOPE_MODE: z.enum(["demo", "production"]).default("production"),
  /**
   * A JSON file in which the fleet describes itself: the topics its services share and the
   * services that obey fault switches (docs/fleet-manifest.md). None: the dashboard draws only
   * what the data shows.
   */
  SAGASCOPE_FLEET_MANIFEST: z.string().min(1).max(4096).optional(),
  /**
   * Proxies in front of the web app that append the client's address to X-Forwarded-For; the
   * sign-in throttle counts per address only when this is 1 or more (server/auth/sign-in-throttle.ts).
   */
  SAGASCOPE_TRUSTED_PROXY_HOPS: z.coerce.number().int().min(0).max(10).default(0),
  /**
   * Single sign-on with an OpenID Connect provider (authorization code with PKCE): its issuer
   * URL, this dashboard's client id and secret there; off when no issuer is set. The
   * provider sends users back to SAGASCOPE_PUBLIC_URL/api/auth/oidc/callback.
   */
  SAGASCOPE_OIDC_ISSUER: z.url().optional(),
  SAGASCOPE_OIDC_CLIENT_ID: z.string().min(1).max(500).optional(),
  SAGASCOPE_OIDC_CLIENT_SECRET: z.string().min(1).max(2000).optional(),
  /** What the sign-in page calls the provider ("Sign in with …"). */
  SAGASCOPE_OIDC_NAME: z.string().min(1).max(100).default("single sign-on"),
  /** The claim (in the ID token or from userinfo) that names the user's groups. */
  SAGASCOPE_OIDC_ROLE_CLAIM: z.string().min(1).max(200).default("groups"),
  /** Which claim value gives which role: `admin=ops-leads;operator=on-call,sre;viewer=eng`. */
  SAGASCOPE_OIDC_ROLES: z.string().max(5000).default(""),
  /** Seals the session cookies; 32 characters at least. Required in production mode. */
  SAGASCOPE_SESSION_SECRET: z.string().min(32, "at least 32 characters").optional(),
  /** The first admin, created at start when no admin exists yet. */
  SAGASCOPE_ADMIN_EMAIL: z.email().optional(),
  SAGASCOPE_ADMIN_PASSWORD: z.string().min(12, "at least 12 characters").optional(),
  /**
   * Send session cookies over HTTPS only. On by default in production mode; `off` is for a
   * dashboard served over plain HTTP on a trusted network (and demo mode's default).
   */
  SAGASCOPE_COOKIE_SECURE: z.enum(["on", "off"]).optional(),
  /** Connections the web process's pool may hold (each of its requests borrows one per query). */
  SAGASCOPE_WEB_DB_POOL: z.coerce.number().int().min(2).max(200).default(10),
  /**
   * The longest one statement of the web process may run before Postgres cancels it (a slow
   * dashboard query must not hold a connection for good); 0 for no limit.
   */
  SAGASCOPE_WEB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(15_000),
  /** The most dead letters one bulk replay or discard may touch. */
  SAGASCOPE_BULK_CAP: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_BULK_CAP),
  /** The most sagas one bulk operation works through (in the background, throttled). */
  SAGASCOPE_BULK_OPERATION_CAP: z.coerce.number().int().min(1).max(1_000_000).default(DEFAULT_OPERATION_CAP),
  /** Sagas a second a bulk operation sends commands to, at most (fixed when it starts). */
  SAGASCOPE_BULK_RATE: z.coerce.number().int().min(1).max(10_000).default(DEFAULT_OPERATION_RATE),
  CI: z.string().optional(),
});

export type Env = Omit<z.infer<typeof EnvSchema>, "SAGASCOPE_COOKIE_SECURE"> & {
  SAGASCOPE_COOKIE_SECURE: boolean;
  /** Which of the servers the user pointed us at; those are never started or stopped by us. */
  given: { database: boolean; redis: boolean; kafka: boolean };
};

export class EnvError extends Error {
  override name = "EnvError";
}

/** `source` checked against `schema`, blank values left out; what is wrong, all of it, in one error. */
export function parseSettings<T extends z.ZodType>(
  schema: T,
  source: Record<string, string | undefined>,
  what: string,
): { data: z.infer<T>; blankless: Record<string, string> } {
  const blankless = Object.fromEntries(
    Object.entries(source).filter((e): e is [string, string] => e[1] !== undefined && e[1] !== ""),
  );
  const result = schema.safeParse(blankless);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new EnvError(`invalid ${what}: ${problems}`);
  }
  return { data: result.data, blankless };
}

export function parseEnv(source: Record<string, string | undefined>): Env {
  const { data, blankless } = parseSettings(EnvSchema, source, "configuration");
  return {
    ...data,
    SAGASCOPE_COOKIE_SECURE:
      (data.SAGASCOPE_COOKIE_SECURE ?? (data.SAGASCOPE_MODE === "production" ? "on" : "off")) === "on",
    given: {
      database: Boolean(blankless.DATABASE_URL),
      redis: Boolean(blankless.REDIS_URL),
      kafka: Boolean(blankless.KAFKA_BROKERS),
    },
  };
}

let cached: Env | undefined;

/** The process's configuration, parsed once. */
export function env(): Env {
  cached ??= parseEnv(process.env);
  return cached;
}

/** The same server as `url`, database name + `suffix`. */
export function siblingDatabase(url: string, suffix: string): string {
  const u = new URL(url);
  const name = u.pathname.slice(1) || "sagascope";
  u.pathname = `/${name.endsWith(suffix) ? name : `${name}${suffix}`}`;
  return u.toString();
}
