// Next.js configuration. Server-only drivers stay external to the bundle: they are
// plain Node packages loaded at run time by the API routes. The security headers are fixed
// at build time; Strict-Transport-Security belongs to whatever terminates TLS in front.

/**
 * The pages load nothing from elsewhere and may not be framed. Scripts allow 'unsafe-inline':
 * Next.js hydrates static pages with inline scripts (a nonce would make every page dynamic),
 * and the theme is applied by an inline script before first paint; what an injected script
 * could reach is still bounded by connect-src 'self' and form-action 'self'.
 */
const contentSecurityPolicy = [
  "default-src 'self'",
  `script-src 'self' 'unsafe-inline'${process.env.NODE_ENV === "production" ? "" : " 'unsafe-eval'"}`,
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'self'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

const securityHeaders = [
  { key: "Content-Security-Policy", value: contentSecurityPolicy },
  { key: "X-Frame-Options", value: "DENY" },
  { key: "X-Content-Type-Options", value: "nosniff" },
  // Same-origin requests keep their Referer (the CSRF check's fallback); other sites get none.
  { key: "Referrer-Policy", value: "same-origin" },
  { key: "Cross-Origin-Opener-Policy", value: "same-origin" },
  { key: "Cross-Origin-Resource-Policy", value: "same-origin" },
  { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=(), payment=(), usb=()" },
];

/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  // A server with only the files it needs (`npm run build`, then `sagascope web`).
  output: "standalone",
  poweredByHeader: false,
  serverExternalPackages: ["pg", "@prisma/adapter-pg", "kafkajs", "ioredis"],
  async headers() {
    return [{ source: "/:path*", headers: securityHeaders }];
  },
};

export default nextConfig;
