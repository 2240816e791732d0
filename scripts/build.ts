// `npm run build`: what production runs, built once (scripts/build/build-steps.ts). Prints
// what it made and how long each part took.
import { buildDashboard, buildProcesses } from "./build/build-steps.ts";
import { step } from "./infra/progress.ts";

const made = await step("building the processes (dist/server)", buildProcesses);
console.log(`  ${made}`);
await step("building the dashboard (next build, standalone)", buildDashboard);
console.log("built: `npm start` serves the dashboard; `npx sagascope --help` lists the processes");
