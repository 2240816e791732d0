// The single sign-on settings and the role a user's groups give (the flow itself runs in
// Chromium against a real provider: e2e/single-sign-on.spec.ts).
import { describe, expect, it } from "vitest";
import { oidcSettings, parseRoleMapping, roleOf } from "./oidc.ts";

const base = {
  SAGASCOPE_OIDC_ISSUER: "https://idp.example.test/realms/ops",
  SAGASCOPE_OIDC_CLIENT_ID: "sagascope",
  SAGASCOPE_OIDC_CLIENT_SECRET: undefined,
  SAGASCOPE_OIDC_NAME: "Okta",
  SAGASCOPE_OIDC_ROLE_CLAIM: "groups",
  SAGASCOPE_OIDC_ROLES: "admin=platform-leads;operator=sre,on-call;viewer=eng",
  SAGASCOPE_PUBLIC_URL: "https://sagascope.example.test/",
};

describe("single sign-on settings", () => {
  it("maps groups to roles, the highest one winning; no mapped group, no role", () => {
    const roles = parseRoleMapping(base.SAGASCOPE_OIDC_ROLES);
    expect(roleOf(["eng", "on-call"], roles)).toBe("operator");
    expect(roleOf(["eng", "platform-leads", "sre"], roles)).toBe("admin");
    expect(roleOf(["marketing"], roles)).toBeUndefined();
    expect(roleOf([], roles)).toBeUndefined();
  });

  it("is off without an issuer, and says what is missing when half set up", () => {
    expect(oidcSettings({ ...base, SAGASCOPE_OIDC_ISSUER: undefined })).toBeUndefined();
    expect(oidcSettings(base)?.redirectUri).toBe("https://sagascope.example.test/api/auth/oidc/callback");
    expect(() => oidcSettings({ ...base, SAGASCOPE_OIDC_CLIENT_ID: undefined })).toThrow(
      "SAGASCOPE_OIDC_CLIENT_ID",
    );
    expect(() => oidcSettings({ ...base, SAGASCOPE_PUBLIC_URL: undefined })).toThrow("SAGASCOPE_PUBLIC_URL");
    expect(() => oidcSettings({ ...base, SAGASCOPE_OIDC_ROLES: "" })).toThrow("SAGASCOPE_OIDC_ROLES");
    expect(() => parseRoleMapping("root=wheel")).toThrow('"root=wheel" is not role=value');
  });
});
