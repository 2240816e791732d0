// The API: one router composed of one router per domain.
import { createCallerFactory, router } from "./init.ts";
import { breakersRouter } from "./routers/breakers.ts";
import { deadLettersRouter } from "./routers/dead-letters.ts";
import { overviewRouter } from "./routers/overview.ts";
import { projectionsRouter } from "./routers/projections.ts";
import { sagasRouter } from "./routers/sagas.ts";

export const appRouter = router({
  sagas: sagasRouter,
  deadLetters: deadLettersRouter,
  breakers: breakersRouter,
  projections: projectionsRouter,
  overview: overviewRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
