// A benchmark's `--name value` argument as given (validated by each bench's own schema).
export function option(name: string): string | undefined {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? process.argv[at + 1] : undefined;
}
