// The edge of every long-running process: start it, stop it once on SIGINT/SIGTERM, and
// exit non-zero with one clear line when it cannot start.
import type { Logger } from "./log.ts";

export interface Service {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export async function runProcess(
  name: string,
  log: Logger,
  create: () => Promise<Service> | Service,
): Promise<void> {
  let service: Service;
  try {
    service = await create();
    await service.start();
  } catch (error) {
    console.error(`${name} cannot start: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  }
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info(`stopping on ${signal}`);
    const timer = setTimeout(() => {
      log.error("did not stop within 15 s; exiting");
      process.exit(1);
    }, 15_000);
    try {
      await service.stop();
      clearTimeout(timer);
      process.exit(0);
    } catch (error) {
      log.error("stop failed", { error });
      process.exit(1);
    }
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}
