// A static page is as fresh as its last build; the next build comes when a status changes, and
// until then the page applies the same rule (callmodel/status.py) to the instants it carries:
// badges, deadlines, days left, the answer box, lists of open calls and their counts.
export const LABELS = { open: "Ouvert", upcoming: "À venir", closed: "Clos" };

export function statusAt(opens, closes, now) {
  if (now < Date.parse(opens)) return "upcoming";
  if (!closes || now < Date.parse(closes)) return "open";
  return "closed";
}

function day(moment, timeZone) {
  // The calendar day of `moment` in the call's time zone, as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" })
    .format(moment);
}

export function daysLeftText(closes, timeZone, now) {
  const days = Math.round((Date.parse(day(Date.parse(closes), timeZone)) - Date.parse(day(now, timeZone))) / 864e5);
  if (days <= 0) return "Dernier jour";
  if (days === 1) return "Clôture demain";
  return `${days} jours restants`;
}

// What a card says of its deadline (the `deadline` macro of _macros.html), as nodes.
export function deadlineNodes(data, status, now) {
  if (status === "upcoming") return [`Ouverture le ${data.opensText}`];
  if (!data.closes) return ["Sans date limite"];
  if (status === "closed") return [`Clos le ${data.closesText}`];
  const strong = document.createElement("strong");
  strong.textContent = daysLeftText(data.closes, data.timezone, now);
  return [`Date limite : ${data.closesText} – `, strong];
}

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children);
  return node;
}

function answerBox(box, data, status, now) {
  const title = box.querySelector("h2");
  if (status === "closed") {
    box.replaceChildren(title, element("p", {}, element("strong", {}, `Cet appel est clos depuis le ${data.closesText}.`),
      " Il n'est plus possible d'y répondre."));
  } else if (status === "open" && box.dataset.answer === "external") {
    box.replaceChildren(title, element("p", {}, "Cet appel est une procédure de marché public : les réponses sont déposées "
      + "sur la plateforme des marchés publics, avant le ", element("strong", {}, data.closesText), "."),
    element("p", {}, element("a", { class: "ap-button", href: box.dataset.answerUrl },
      "Répondre sur la plateforme des marchés publics", element("span", { class: "ap-sr-only" }, " (site externe)"))));
  } else if (status === "open") {
    box.replaceChildren(title, element("p", {}, "Date limite de réponse : ", element("strong", {}, data.closesText),
      ` (${daysLeftText(data.closes, data.timezone, now).toLowerCase()}). Un accusé de réception vous est envoyé `
      + "aussitôt ; l'heure de réception fait foi."),
    element("p", {}, element("a", { class: "ap-button", href: box.dataset.answerUrl }, "Répondre à l'appel")));
  }
  box.className = `ap-answer ap-answer--${status}`;
}

// One call (a card or a call page): its status and everything that says it.
function correct(node, now) {
  const data = node.dataset;
  const status = statusAt(data.opens, data.closes, now);
  for (const tag of node.querySelectorAll(".ap-tag")) {
    tag.className = `ap-tag ap-tag--${status}`;
    tag.textContent = LABELS[status];
  }
  for (const text of node.querySelectorAll("[data-status-text]")) text.textContent = LABELS[status];
  const deadline = node.querySelector(".ap-card__deadline");
  if (deadline) deadline.replaceChildren(...deadlineNodes(data, status, now));
  for (const days of node.querySelectorAll("[data-days-left]")) {
    days.textContent = daysLeftText(data.closes, data.timezone, now).toLowerCase();
  }
  const box = node.querySelector(".ap-answer[data-answer]");
  if (box && status !== data.status) answerBox(box, data, status, now);
  node.dataset.status = status;
  return status;
}

// A list of open (or upcoming, or closed) calls keeps only the calls that still are; on the home
// page an upcoming call that opens moves to the open calls, in deadline order.
function sortIntoOpen(list, card) {
  const closes = (node) => (node.dataset.closes ? Date.parse(node.dataset.closes) : Infinity);
  const next = [...list.children].find((other) => closes(other) > closes(card));
  list.insertBefore(card, next || null);
}

export function correctPage(root = document, now = Date.now()) {
  for (const node of root.querySelectorAll("[data-opens]")) {
    const status = correct(node, now);
    const list = node.parentElement && node.parentElement.closest("[data-list]");
    if (!list || list.dataset.list === status) continue;
    const open = document.querySelector('[data-list="open"]');
    if (status === "open" && open && open !== list) sortIntoOpen(open, node);
    else node.hidden = true;
  }
  for (const count of root.querySelectorAll("[data-count]")) {
    let value = Number(count.dataset.count);
    for (const change of count.dataset.changes.split(" ")) {
      const [moment, delta] = change.split(":");
      if (Number(moment) * 1000 <= now) value += Number(delta);
    }
    const noun = count.dataset.noun;
    count.textContent = noun ? `${value} ${noun}${value > 1 ? "s" : ""}` : String(value);
  }
  // Past `questions_until`, the question link gives way to a notice (the form service refuses anyway).
  for (const ask of root.querySelectorAll("[data-questions-until]")) {
    if (now >= Date.parse(ask.dataset.questionsUntil)) {
      ask.replaceChildren(element("p", {}, `Les questions étaient possibles jusqu'au ${ask.dataset.questionsUntilText}.`));
    }
  }
}

correctPage();
