// The API: one router composed of one router per domain.
import { createCallerFactory, router } from "./init.ts";
import { breakersRouter } from "./routers/breakers.ts";
import { deadLettersRouter } from "./routers/dead-letters.ts";
import { sagasRouter } from "./routers/sagas.ts";

export const appRouter = router({
  sagas: sagasRouter,
  deadLetters: deadLettersRouter,
  breakers: breakersRouter,
});

export type AppRouter = typeof appRouter;
export const createCaller = createCallerFactory(appRouter);
