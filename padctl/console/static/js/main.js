// The console page: starts the link, the always-visible header parts, and routes the displays.

import { AlarmBanner, AlarmPage } from "./alarms.js";
import { ArmsStrip } from "./arms.js";
import { CountdownClock } from "./clock.js";
import { h, setClass, setText } from "./dom.js";
import { JournalPage } from "./journal.js";
import { loadLimits } from "./limits.js";
import { Link } from "./link.js";
import { Messages } from "./messages.js";
import { OverviewPage } from "./overview.js";
import { PollPage } from "./poll.js";
import { Store } from "./store.js";
import { SubsystemPage } from "./subsystem.js";

const $ = (selector) => document.querySelector(selector);
const UNACKED = new Set(["UNACK", "RTN_UNACK"]);

const store = new Store();
const messages = new Messages($("#toasts"), $("#log"));
const link = new Link(store, {
  onAnswer: (answer, label) => messages.answer(answer, label),
  onStatus: (text, ok) => {
    setText($("#link-status"), text);
    setClass($("#link-status"), "bad", !ok);
  },
  onLoggedOut: (reason) => {
    sessionStorage.setItem("padctl-logout-reason", reason || "");
    location.replace("login.html");
  },
});
const ctx = { store, link, messages };
let page = null;
let pageKey = "";
let limitsSource = "";

function route() {
  const hash = location.hash || "#/overview";
  const [, view, arg] = hash.split("/");
  const key = `${view}/${arg || ""}`;
  if (!store.ready) {
    $("#view").replaceChildren(h("p", { class: "muted" }, "Connecting to the server…"));
    pageKey = "";
    return;
  }
  if (key === pageKey) return;
  if (page) page.destroy();
  pageKey = key;
  if (view === "subsystem" && store.subsystems.has(arg)) page = new SubsystemPage(ctx, arg);
  else if (view === "alarms") page = new AlarmPage(ctx);
  else if (view === "poll") page = new PollPage(ctx);
  else if (view === "journal") page = new JournalPage(ctx);
  else page = new OverviewPage(ctx);
  $("#view").replaceChildren(page.el);
  for (const a of document.querySelectorAll("nav a")) {
    setClass(a, "current", a.getAttribute("href") === (hash === "#/" ? "#/overview" : hash));
  }
}

function renderNav() {
  const subs = $("#subsystem-nav");
  subs.replaceChildren(...[...store.subsystems.values()].map((sub) =>
    h("a", { href: `#/subsystem/${sub.name}`, "data-nav": sub.name,
      class: sub.state === "FAULT" ? "fault" : "" }, sub.title)));
  const current = location.hash || "#/overview";
  for (const a of document.querySelectorAll("nav a")) {
    setClass(a, "current", a.getAttribute("href") === current);
  }
}

function renderBadges() {
  const unacked = [...store.alarms.values()].filter((a) => UNACKED.has(a.state)).length;
  const badge = $("#alarm-count");
  setText(badge, unacked ? String(unacked) : "");
  badge.hidden = unacked === 0;
  const poll = store.countdown && store.countdown.poll;
  const waiting = poll && store.user.positions.some((p) => poll.answers[p] === null);
  $("#poll-badge").hidden = !waiting;
  for (const a of document.querySelectorAll("#subsystem-nav a")) {
    const sub = store.subsystems.get(a.dataset.nav);
    if (sub) setClass(a, "fault", sub.state === "FAULT");
  }
}

function renderHeader() {
  const user = store.user;
  setText($("#user"), `${user.name} · ${user.role.replaceAll("_", " ")}` +
    (user.positions.length ? ` · answers for ${user.positions.join(", ")}` : ""));
  setText($("#pad-name"), `${store.config.pad}${store.config.simulated ? " (SIMULATED)" : ""}`);
  setText($("#consoles"), "Consoles: " + store.consoles.map((c) =>
    c.count > 1 ? `${c.user} ×${c.count}` : c.user).join(", "));
  setText($("#lcc-source"), {
    server: "normal bands: the server's LCC",
    none: "no LCC table: ranges only",
  }[limitsSource] || "");
}

store.subscribe((changes) => {
  if (changes.snapshot) {
    loadLimits(store.config).then((source) => {
      limitsSource = source;
      renderHeader();
      if (page) page.update({ snapshot: true });
    });
    renderNav();
    renderHeader();
    if (!pageKey) route();
  }
  if (changes.consoles) renderHeader();
  if (page) page.update(changes);
  renderBadges();
});

async function start() {
  const response = await fetch("/api/session", { cache: "no-store" });
  if (response.status === 401) {
    location.replace("login.html");
    return;
  }
  new CountdownClock(store, $("#clock"));
  new AlarmBanner(store, $("#alarm-banner"));
  new ArmsStrip(store, link, $("#arms"));
  window.addEventListener("hashchange", route);
  $("#logout").addEventListener("click", async () => {
    link.stop();
    await fetch("/api/logout", { method: "POST" });
    location.replace("login.html");
  });
  route();
  link.connect();
}

start();
