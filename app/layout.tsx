import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { Providers } from "@/components/trpc.tsx";
import "./globals.css";

export const metadata: Metadata = {
  title: "Sagascope",
  description: "Sagas, circuit breakers and projections over Kafka, live",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    <html lang="en">
      <body>
        <header className="topbar">
          <Link href="/overview" className="brand">
            Sagascope
          </Link>
          <nav>
            <Link href="/overview">Overview</Link>
            <Link href="/sagas">Sagas</Link>
            <Link href="/breakers">Breakers</Link>
            <Link href="/projections">Projections</Link>
            <Link href="/dead-letters">Dead letters</Link>
            <Link href="/kafka">Kafka</Link>
          </nav>
        </header>
        <main>
          <Providers>{children}</Providers>
        </main>
      </body>
    </html>
  );
}
