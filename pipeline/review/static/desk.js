// The desk's only script: select a claim, light up its spans, post reviews as JSON.
"use strict";

const REVIEWER_KEY = "factcheck.reviewer";

function reviewerInput() { return document.getElementById("reviewer"); }

function initReviewer() {
  const input = reviewerInput();
  if (!input) return;
  const saved = localStorage.getItem(REVIEWER_KEY);
  if (saved && !input.value) input.value = saved;
  input.addEventListener("change", () => localStorage.setItem(REVIEWER_KEY, input.value.trim()));
}

function selectClaim(claimId, scroll) {
  const page = document.getElementById("article-page");
  if (!page || !claimId) return;
  page.dataset.selected = claimId;
  page.classList.add("has-selection");
  for (const card of document.querySelectorAll(".claim-card")) card.hidden = card.dataset.claim !== claimId;
  for (const tab of document.querySelectorAll(".claim-tab")) {
    const on = tab.dataset.claim === claimId;
    tab.classList.toggle("current", on);
    tab.setAttribute("aria-selected", on ? "true" : "false");
  }
  const prefix = claimId + ":";
  let first = null;
  for (const mark of document.querySelectorAll("#article-text mark.seg")) {
    for (const cls of [...mark.classList]) if (cls.startsWith("sel-")) mark.classList.remove(cls);
    for (const role of (mark.dataset.roles || "").split(" ")) {
      if (role.startsWith(prefix)) {
        mark.classList.add("sel-" + role.slice(prefix.length));
        if (!first) first = mark;
      }
    }
  }
  const url = new URL(window.location.href);
  url.searchParams.set("claim", claimId);
  history.replaceState(null, "", url);
  if (scroll && first) first.scrollIntoView({ block: "center", behavior: "smooth" });
}

function gotoSpan(spanId) {
  const marks = [...document.querySelectorAll("#article-text mark.seg")]
    .filter((m) => (m.dataset.spans || "").split(" ").includes(spanId));
  if (!marks.length) return;
  marks[0].scrollIntoView({ block: "center", behavior: "smooth" });
  for (const m of marks) { m.classList.remove("flash"); void m.offsetWidth; m.classList.add("flash"); }
}

// A review the desk could not save (a full disk, a read-only folder) stays in its form, and is kept in
// sessionStorage too, so a reload or another tab's visit does not lose what the reviewer typed.
function draftKey(form) {
  const page = document.getElementById("article-page");
  return `factcheck.draft:${page.dataset.article}:${form.dataset.claim}:${form.dataset.action}`;
}

function keepDraft(form) {
  const fields = {};
  for (const [key, value] of new FormData(form).entries()) if (typeof value === "string") fields[key] = value;
  try { sessionStorage.setItem(draftKey(form), JSON.stringify(fields)); } catch (e) { /* storage full: the form keeps it */ }
}

function restoreDrafts() {
  for (const form of document.querySelectorAll("form.review")) {
    const saved = sessionStorage.getItem(draftKey(form));
    if (!saved) continue;
    for (const [key, value] of Object.entries(JSON.parse(saved))) {
      const field = form.elements.namedItem(key);
      if (field && field.type !== "hidden") field.value = value;
    }
    const error = form.closest(".claim-card").querySelector(".form-error");
    error.textContent = "Not saved yet: what you typed before is back in the form; save it again.";
    error.hidden = false;
  }
}

async function submitReview(form) {
  const card = form.closest(".claim-card");
  const error = card.querySelector(".form-error");
  error.hidden = true;
  const reviewer = (reviewerInput()?.value || "").trim();
  if (!reviewer) {
    error.textContent = "Enter your name as reviewer (top right) first.";
    error.hidden = false;
    reviewerInput()?.focus();
    return;
  }
  localStorage.setItem(REVIEWER_KEY, reviewer);
  const body = { reviewer };
  for (const [key, value] of new FormData(form).entries()) {
    if (typeof value === "string" && value.trim() !== "") body[key] = value;
  }
  const page = document.getElementById("article-page");
  const claimId = form.dataset.claim;
  const url = `/api/articles/${page.dataset.article}/claims/${claimId}/reviews`;
  for (const b of form.querySelectorAll("button")) b.disabled = true;
  try {
    const response = await fetch(url, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (!response.ok) {
      const problem = await response.json().catch(() => ({ error: response.statusText }));
      throw new Error(problem.error || `HTTP ${response.status}`);
    }
    sessionStorage.removeItem(draftKey(form));
    const next = new URL(window.location.href);
    next.searchParams.set("claim", claimId);
    window.location.assign(next);
  } catch (e) {
    keepDraft(form);
    error.textContent = "Not saved: " + e.message;
    error.hidden = false;
    for (const b of form.querySelectorAll("button")) b.disabled = false;
  }
}

document.addEventListener("DOMContentLoaded", () => {
  initReviewer();
  const page = document.getElementById("article-page");
  if (!page) return;
  selectClaim(page.dataset.selected, false);
  restoreDrafts();
  for (const tab of document.querySelectorAll(".claim-tab")) tab.addEventListener("click", () => selectClaim(tab.dataset.claim, true));
  for (const button of document.querySelectorAll("button.goto")) button.addEventListener("click", () => gotoSpan(button.dataset.goto));
  document.getElementById("article-text").addEventListener("click", (event) => {
    const mark = event.target.closest("mark.seg");
    if (!mark) return;
    const claims = (mark.dataset.roles || "").split(" ").filter(Boolean).map((r) => r.split(":")[0]);
    if (claims.length && !claims.includes(page.dataset.selected)) selectClaim(claims[0], false);
  });
  for (const form of document.querySelectorAll("form.review")) {
    form.addEventListener("submit", (event) => { event.preventDefault(); submitReview(form); });
  }
});
