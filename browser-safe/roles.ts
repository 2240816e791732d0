// Who may do what. Every mutation names its permission and is checked on the server; the UI
// only hides what a role may not do.
export const ROLES = ["viewer", "operator", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = {
  /** Compensate, retry, mark resolved (one saga or in bulk). */
  "saga.act": "operator",
  /** Retry a saga's step with an edited input (the original and the edit both kept). */
  "saga.edit": "admin",
  /** Force open/closed, clear an override, reset counters. */
  "breaker.override": "operator",
  /** Change a pair's thresholds. */
  "breaker.configure": "admin",
  /** Replay or discard quarantined messages. */
  "dead-letter.act": "operator",
  /** Replay a quarantined message with an edited key, value or headers. */
  "dead-letter.edit": "admin",
  /** Declare a consumer group to be a projection (its lag is then sampled), or forget one. */
  "projection.declare": "admin",
  /** Define or delete alert rules on the alerts page. */
  "alerts.configure": "admin",
  /** Silence an alert rule for a while, or lift the silence. */
  "alerts.silence": "operator",
  /** The demo fleet's fault panel (demo mode only). */
  "fleet.faults": "operator",
  "users.manage": "admin",
  /** Save, change or delete one's own views of the saga list and the audit log, and pick a landing view. */
  "views.save": "viewer",
  /** Share a view with the team (everyone signed in sees it). */
  "views.share": "operator",
  /** Delete a view another user shared. */
  "views.manage": "admin",
} as const satisfies Record<string, Role>;
export type Permission = keyof typeof PERMISSIONS;

export function can(role: Role, permission: Permission): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(PERMISSIONS[permission]);
}

/** Who acts: a signed-in user, or the demo operator in demo mode. */
export interface Actor {
  id: string;
  email: string;
  name: string;
  role: Role;
  via: "session" | "demo";
}

export const DEMO_OPERATOR: Actor = {
  id: "demo",
  email: "demo-operator",
  name: "Demo operator",
  role: "operator",
  via: "demo",
};
