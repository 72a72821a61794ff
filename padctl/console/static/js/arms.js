// Pending two-step commands: every console lists them; the armer or a second person confirms.

import { h, setText } from "./dom.js";

/** What this user may do with `arm`: confirm (and as whom), cancel, or only watch. */
export function armRole(store, arm) {
  const me = store.user;
  const mine = arm.armed_by === me.name;
  let qualified = !arm.second_person && mine;
  if (arm.second_person && !mine) {
    qualified = arm.qualified.some((q) => {
      if (q === me.role) return true;
      const [role, subsystem] = q.split(":");
      return role === me.role && subsystem && me.subsystems.includes(subsystem);
    });
  }
  return { mine, canConfirm: qualified, canCancel: mine };
}

/** Seconds of wall time left before `arm` expires (server time). */
export function armRemaining(store, arm) {
  return Math.max(0, arm.expires_at - store.serverNow());
}

/** Find the pending arm of a subsystem command, if any. */
export function armFor(store, command, args) {
  return store.arms.find(
    (arm) =>
      arm.command === command &&
      Object.entries(args).every(([key, value]) => arm.args[key] === value),
  );
}

export function confirmArm(link, arm) {
  return link.send("arm.confirm", { arm_id: arm.arm_id }, `confirm ${arm.summary}`);
}

export function cancelArm(link, arm) {
  return link.send("arm.cancel", { arm_id: arm.arm_id }, `cancel ${arm.summary}`);
}

/** The strip under the clock: every pending arm with its expiry countdown and actions. */
export class ArmsStrip {
  constructor(store, link, root) {
    this.store = store;
    this.link = link;
    this.root = root;
    this.rows = [];
    store.subscribe((changes) => {
      if (changes.snapshot || changes.arms) this.render();
    });
    setInterval(() => this.tick(), 200);
  }

  render() {
    this.root.replaceChildren();
    this.rows = [];
    this.root.hidden = this.store.arms.length === 0;
    for (const arm of this.store.arms) {
      const role = armRole(this.store, arm);
      const left = h("span", { class: "arm-left" });
      const status = arm.second_person
        ? role.mine
          ? "awaiting a second person"
          : role.canConfirm
            ? "needs your confirmation as second person"
            : "awaiting a second person (not you)"
        : role.mine
          ? "confirm to execute"
          : "pending";
      const row = h(
        "div",
        { class: "arm", "data-arm": arm.arm_id },
        h("span", { class: "arm-mark" }, "ARMED"),
        h("span", { class: "arm-summary" }, arm.summary),
        h("span", { class: "arm-by" }, `by ${arm.armed_by}`),
        h("span", { class: "arm-status" }, status),
        left,
        role.canConfirm
          ? h("button", { class: "btn btn-confirm", onclick: () => confirmArm(this.link, arm) },
            arm.second_person && !role.mine ? "Confirm (second person)" : "Confirm")
          : null,
        role.canCancel
          ? h("button", { class: "btn", onclick: () => cancelArm(this.link, arm) }, "Cancel")
          : null,
      );
      this.rows.push({ arm, left });
      this.root.append(row);
    }
    this.tick();
  }

  tick() {
    for (const { arm, left } of this.rows) {
      setText(left, `${armRemaining(this.store, arm).toFixed(1)} s`);
    }
  }
}
