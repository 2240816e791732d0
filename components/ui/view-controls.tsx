"use client";
// Theme (system, light, dark), wall-screen mode and keyboard shortcuts, for every page.
// The choice is kept in localStorage and applied before the first paint by THEME_SCRIPT.
import { usePathname, useRouter } from "next/navigation";
import { useCallback, useEffect, useState } from "react";
import { UserBadge } from "@/components/auth/user-badge.tsx";

type Theme = "system" | "light" | "dark";
const THEMES: Theme[] = ["system", "light", "dark"];
const THEME_KEY = "sagascope.theme";
const WALL_KEY = "sagascope.wall";

/** Runs in <head> before the page paints, so a chosen theme never flashes the other one. */
export const THEME_SCRIPT = `try{var t=localStorage.getItem("${THEME_KEY}");if(t==="light"||t==="dark")document.documentElement.dataset.theme=t;if(new URLSearchParams(location.search).get("wall")==="1"||localStorage.getItem("${WALL_KEY}")==="1")document.documentElement.dataset.wall="1"}catch(e){}`;

/** "g" then a letter goes to a view. */
export const GO_TO: Record<string, [string, string]> = {
  o: ["/overview", "Overview"],
  s: ["/sagas", "Sagas"],
  b: ["/breakers", "Breakers"],
  m: ["/service-map", "Service map"],
  p: ["/projections", "Projections"],
  k: ["/kafka", "Kafka"],
  d: ["/dead-letters", "Dead letters"],
  a: ["/alerts", "Alerts"],
};

function applyTheme(theme: Theme) {
  if (theme === "system") delete document.documentElement.dataset.theme;
  else document.documentElement.dataset.theme = theme;
}

function applyWall(on: boolean) {
  if (on) document.documentElement.dataset.wall = "1";
  else delete document.documentElement.dataset.wall;
}

const typing = (target: EventTarget | null) =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));

export function ViewControls() {
  const router = useRouter();
  const pathname = usePathname();
  const [theme, setTheme] = useState<Theme>("system");
  const [wall, setWall] = useState(false);
  const [help, setHelp] = useState(false);

  useEffect(() => {
    const saved = localStorage.getItem(THEME_KEY);
    if (saved === "light" || saved === "dark") setTheme(saved);
    setWall(document.documentElement.dataset.wall === "1");
  }, []);

  const nextTheme = useCallback(() => {
    setTheme((current) => {
      const next = THEMES[(THEMES.indexOf(current) + 1) % THEMES.length] as Theme;
      localStorage.setItem(THEME_KEY, next);
      applyTheme(next);
      return next;
    });
  }, []);
  const toggleWall = useCallback(() => {
    setWall((on) => {
      localStorage.setItem(WALL_KEY, on ? "0" : "1");
      applyWall(!on);
      return !on;
    });
  }, []);

  useEffect(() => {
    let pendingG = 0;
    const onKey = (e: KeyboardEvent) => {
      if (e.ctrlKey || e.metaKey || e.altKey || typing(e.target)) return;
      if (e.key === "Escape") return setHelp(false);
      if (Date.now() - pendingG < 1500 && GO_TO[e.key]) {
        pendingG = 0;
        e.preventDefault();
        router.push((GO_TO[e.key] as [string, string])[0]);
        return;
      }
      if (e.key === "g") pendingG = Date.now();
      else if (e.key === "/") {
        const search = document.querySelector<HTMLInputElement>("[data-shortcut=search]");
        if (search) {
          e.preventDefault();
          search.focus();
        }
      } else if (e.key === "t") nextTheme();
      else if (e.key === "w") toggleWall();
      else if (e.key === "?") setHelp((h) => !h);
    };
    window.addEventListener("keydown", onKey);
    // A key pressed before the page is interactive is lost: this says the shortcuts listen.
    document.documentElement.dataset.shortcuts = "ready";
    return () => {
      window.removeEventListener("keydown", onKey);
      delete document.documentElement.dataset.shortcuts;
    };
  }, [router, nextTheme, toggleWall]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a new page closes the help
  useEffect(() => setHelp(false), [pathname]);

  return (
    <div className="view-controls">
      <UserBadge />
      <button type="button" onClick={nextTheme} title="Theme (t)" data-testid="theme-toggle">
        Theme: {theme}
      </button>
      <button type="button" onClick={toggleWall} aria-pressed={wall} title="Wall screen (w)">
        {wall ? "Exit wall" : "Wall"}
      </button>
      <button
        type="button"
        onClick={() => setHelp(true)}
        title="Keyboard shortcuts (?)"
        aria-label="Keyboard shortcuts"
      >
        ?
      </button>
      {help && (
        // biome-ignore lint/a11y/useKeyWithClickEvents: Escape closes it (the window's key handler)
        <div
          className="shortcut-help"
          role="dialog"
          aria-modal="true"
          aria-label="Keyboard shortcuts"
          onClick={() => setHelp(false)}
        >
          <div>
            <h2>Keyboard shortcuts</h2>
            <ul className="plain">
              {Object.entries(GO_TO).map(([key, [, label]]) => (
                <li key={key}>
                  <kbd>g</kbd> <kbd>{key}</kbd> {label}
                </li>
              ))}
              <li>
                <kbd>/</kbd> search (on the saga list)
              </li>
              <li>
                <kbd>t</kbd> theme: system, light, dark
              </li>
              <li>
                <kbd>w</kbd> wall screen
              </li>
              <li>
                <kbd>?</kbd> this help · <kbd>Esc</kbd> close
              </li>
            </ul>
          </div>
        </div>
      )}
    </div>
  );
}
