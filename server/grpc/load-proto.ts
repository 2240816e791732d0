// Loads a .proto service definition at run time; its TypeScript types are generated from
// the same file (scripts/bootstrap.mjs), so code and wire agree.
import path from "node:path";
import { fileURLToPath } from "node:url";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";

const PROTO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../proto");

/** Options that match the type generator's (--longs=Number --enums=String --defaults --oneofs). */
const LOADER_OPTIONS: protoLoader.Options = { longs: Number, enums: String, defaults: true, oneofs: true };

const loaded = new Map<string, grpc.GrpcObject>();

/** A service definition, parsed once per process however many clients and servers use it. */
export function loadProto<T>(file: string): T {
  let pkg = loaded.get(file);
  if (!pkg) {
    const definition = protoLoader.loadSync(path.join(PROTO_ROOT, file), {
      ...LOADER_OPTIONS,
      includeDirs: [PROTO_ROOT],
    });
    pkg = grpc.loadPackageDefinition(definition);
    loaded.set(file, pkg);
  }
  return pkg as unknown as T;
}
