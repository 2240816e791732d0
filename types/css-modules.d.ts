// CSS modules' class names, for the type check on a fresh clone (before Next generates its
// own declarations at build time).
declare module "*.module.css" {
  const classes: Readonly<Record<string, string>>;
  export default classes;
}
