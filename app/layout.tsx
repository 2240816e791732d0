import type { Metadata } from "next";
import Link from "next/link";
import type { ReactNode } from "react";
import { RoleLinks } from "@/components/auth/role-links.tsx";
import { Providers } from "@/components/trpc.tsx";
import { THEME_SCRIPT, ViewControls } from "@/components/ui/view-controls.tsx";
import { ViewsMenu } from "@/components/views/views-menu.tsx";
import "./globals.css";

export const metadata: Metadata = {
  title: "Sagascope",
  description: "Sagas, circuit breakers and projections over Kafka, live",
};

export default function RootLayout({ children }: { children: ReactNode }) {
  return (
    // The theme script sets data-theme/data-wall before React hydrates.
    <html lang="en" suppressHydrationWarning>
      <head>
        {/* biome-ignore lint/security/noDangerouslySetInnerHtml: a constant of ours, needed before the first paint */}
        <script dangerouslySetInnerHTML={{ __html: THEME_SCRIPT }} />
      </head>
      <body>
        <Providers>
          <header className="topbar">
            <Link href="/overview" className="brand">
              Sagascope
            </Link>
            <nav>
              <Link href="/overview">Overview</Link>
              <Link href="/sagas">Sagas</Link>
              <Link href="/service-map">Service map</Link>
              <Link href="/breakers">Breakers</Link>
              <Link href="/projections">Projections</Link>
              <Link href="/dead-letters">Dead letters</Link>
              <Link href="/alerts">Alerts</Link>
              <Link href="/kafka">Kafka</Link>
              <Link href="/operations">Operations</Link>
              <Link href="/audit">Audit</Link>
              <RoleLinks />
              <ViewsMenu />
            </nav>
            <ViewControls />
          </header>
          <main>{children}</main>
        </Providers>
      </body>
    </html>
  );
}
