// Loads a .proto service definition at run time; its TypeScript types are generated from
// the same file (scripts/bootstrap.mjs), so code and wire agree.
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const PROTO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../proto");

/** Options that match the type generator's (--longs=Number --enums=String --defaults --oneofs). */
const LOADER_OPTIONS: protoLoader.Options = { longs: Number, enums: String, defaults: true, oneofs: true };

export function loadProto<T>(file: string): T {
  const definition = protoLoader.loadSync(path.join(PROTO_ROOT, file), {
    ...LOADER_OPTIONS,
    includeDirs: [PROTO_ROOT],
  });
  return grpc.loadPackageDefinition(definition) as unknown as T;
}
