// Next.js configuration. Server-only drivers stay external to the bundle: they are
// plain Node packages loaded at run time by the API routes.
/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  serverExternalPackages: ["pg", "@prisma/adapter-pg", "kafkajs", "ioredis"],
};

export default nextConfig;
