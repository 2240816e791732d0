// The API: one router composed of one router per domain.
import "server-only";
import { createCallerFactory, router } from "./init.ts";
import { actionsRouter } from "./routers/actions.ts";
import { alertsRouter } from "./routers/alerts.ts";
import { auditRouter } from "./routers/audit.ts";
import { authRouter } from "./routers/auth.ts";
import { breakersRouter } from "./routers/breakers.ts";
import { deadLettersRouter } from "./routers/dead-letters.ts";
import { kafkaRouter } from "./routers/kafka.ts";
import { operationsRouter } from "./routers/operations.ts";
import { overviewRouter } from "./routers/overview.ts";
import { projectionsRouter } from "./routers/projections.ts";
import { sagasRouter } from "./routers/sagas.ts";
import { serviceMapRouter } from "./routers/service-map.ts";
import { tracesRouter } from "./routers/traces.ts";
import { viewsRouter } from "./routers/views.ts";

export const appRouter = router({
  auth: authRouter,
  actions: actionsRouter,
  audit: auditRouter,
  sagas: sagasRouter,
  deadLetters: deadLettersRouter,
  breakers: breakersRouter,
  projections: projectionsRouter,
  alerts: alertsRouter,
  overview: overviewRouter,
  kafka: kafkaRouter,
  traces: tracesRouter,
  serviceMap: serviceMapRouter,
  operations: operationsRouter,
  views: viewsRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
