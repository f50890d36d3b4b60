// The call editor at /admin/: Decap CMS (its configuration, admin/config.yml, is written by the
// build from the call model) with three additions of ours:
// - a date-time widget that checks a call's dates the way `calls check` does, with its messages;
// - French messages where Decap's own read badly;
// - a preview that is the call page, with the site's stylesheet.
// This script runs before Decap's and starts it once both are loaded.
(() => {
  "use strict";

  const script = document.currentScript;
  const STATIC = script.dataset.static;
  const LABELS = JSON.parse(script.dataset.labels);
  const MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
    "octobre", "novembre", "décembre"];

  window.CMS_MANUAL_INIT = true;

  // --- dates, written as local times of the call's zone (callmodel/dates.py, callmodel/french.py)

  function parts(text) {
    const match = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}))?$/.exec(String(text || "").trim());
    if (!match) return null;
    const [year, month, day, hour, minute] = match.slice(1).map((v) => (v === undefined ? undefined : Number(v)));
    return { year, month, day, hour, minute, timed: hour !== undefined };
  }

  function dateExists(p) {
    const day = new Date(Date.UTC(p.year, p.month - 1, p.day));
    return day.getUTCFullYear() === p.year && day.getUTCMonth() === p.month - 1 && day.getUTCDate() === p.day;
  }

  function wallClock(ms, zone) {
    const format = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hourCycle: "h23", year: "numeric",
      month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit" });
    const p = Object.fromEntries(format.formatToParts(new Date(ms)).map((x) => [x.type, x.value]));
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute);
  }

  // The instant of a local time in `zone`; null when the daylight-saving change skips it. An hour
  // that happens twice is its first occurrence, as in Python.
  function instant(p, zone) {
    const wall = Date.UTC(p.year, p.month - 1, p.day, p.hour || 0, p.minute || 0);
    const day = 24 * 3600 * 1000;
    const found = [wall - day, wall + day]
      .map((probe) => wall - (wallClock(probe, zone) - probe))
      .filter((candidate) => wallClock(candidate, zone) === wall);
    return found.length ? Math.min(...found) : null;
  }

  function city(zone) {
    return zone.split("/").pop().replace(/_/g, " ");
  }

  function frenchDate(p) {
    return `${p.day === 1 ? "1er" : p.day} ${MONTHS[p.month - 1]} ${p.year}`;
  }

  function frenchDateTime(text, zone) {
    const p = parts(text);
    if (!p || !p.timed) return text || "";
    return `${frenchDate(p)} à ${p.hour} h ${String(p.minute).padStart(2, "0")} (heure de ${city(zone)})`;
  }

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? values[name] : whole));
  }

  function zoneOf(entry) {
    return entry.getIn(["data", "timezone"]) || LABELS.default_timezone;
  }

  // --- the date-time widget: Decap's picker, our checks

  function callDateTime(Base) {
    return class CallDateTime extends Base {
      isValid = () => {
        const { value, entry, field } = this.props;
        if (!value) return true;
        const messages = field.get("messages").toJS();
        const fail = (message) => ({ error: { type: "CUSTOM", message } });
        const p = parts(value);
        if (!p || !p.timed) return fail(fill(messages.format, { text: value }));
        if (!dateExists(p) || p.hour > 23 || p.minute > 59) return fail(fill(messages.date, { text: value }));
        const zone = zoneOf(entry);
        const moment = instant(p, zone);
        if (moment === null) return fail(fill(messages.skipped, { text: value, zone }));
        const order = field.get("order") && field.get("order").toJS();
        if (!order) return true;
        const names = order.after || order.not_after;
        const name = names.find((n) => entry.getIn(["data", n]));
        const bound = name && parts(entry.getIn(["data", name]));
        const limit = bound && dateExists(bound) ? instant(bound, zone) : null;
        if (limit === null) return true;
        const wrong = order.after ? moment <= limit : moment > limit;
        if (!wrong) return true;
        return fail(fill(order.message, { [field.get("name")]: value, [names[0]]: entry.getIn(["data", name]) }));
      };
    };
  }

  // --- the preview: templates/call.html, drawn from what is being written

  function statusOf(entry) {
    const zone = zoneOf(entry);
    const data = (name) => parts(entry.getIn(["data", name]));
    const opens = data("opens") || data("published");
    const closes = data("closes");
    const now = Date.now();
    if (opens && instant(opens, zone) > now) return "upcoming";
    if (closes && closes.timed && instant(closes, zone) <= now) return "closed";
    return "open";
  }

  function CallPreview({ entry, widgetFor, getAsset, document: frame }) {
    const h = window.h;
    const data = (name) => entry.getIn(["data", name]);
    if (frame) {
      // The preview is a page of its own (an iframe): its language and title, as on the site.
      frame.documentElement.lang = "fr";
      frame.title = `Aperçu : ${data("title") || "nouvel appel"}`;
    }
    const list = (name) => (data(name) ? data(name).toJS() : []);
    const zone = zoneOf(entry);
    const status = statusOf(entry);
    const type = LABELS.types[data("type")] || data("type") || "Type d'appel";
    const partner = LABELS.partners[data("partner")] || data("partner") || "Partenaire";
    const submission = data("submission") ? data("submission").toJS() : {};
    const closes = frenchDateTime(data("closes"), zone);
    const opens = frenchDateTime(data("opens"), zone)
      || (parts(data("published")) ? `${frenchDate(parts(data("published")))} à 0 h 00 (heure de ${city(zone)})` : "");
    const answerable = data("type") !== "avis-information";
    let answer;
    if (!answerable) answer = h("p", null, "Avis d'information : aucune réponse n'est attendue.");
    else if (status === "closed") answer = h("p", null, h("strong", null, `Cet appel est clos depuis le ${closes}.`), " Il n'est plus possible d'y répondre.");
    else if (status === "upcoming") answer = h("p", null, "Cet appel n'est pas encore ouvert : les réponses seront possibles à partir du ", h("strong", null, opens), `, jusqu'au ${closes}.`);
    else if (submission.external_url) answer = h("p", null, "Cet appel est une procédure de marché public : les réponses sont déposées sur la plateforme des marchés publics, avant le ", h("strong", null, closes), ".");
    else answer = h("p", null, "Date limite de réponse : ", h("strong", null, closes || "à préciser"), ". Un accusé de réception vous est envoyé aussitôt ; l'heure de réception fait foi.");
    const summary = [
      ["Type", type], ["Partenaire", partner],
      ["Publics", list("audiences").map((a) => LABELS.audiences[a] || a).join(", ")],
      ["Thèmes", list("themes").map((t) => LABELS.themes[t] || t).join(", ")],
      ["Budget", data("budget")],
      ["Publication", parts(data("published")) ? frenchDate(parts(data("published"))) : ""],
      ["Ouverture", opens], ["Clôture", closes],
      ["Questions jusqu'au", frenchDateTime(data("questions_until"), zone)],
      ["Statut", LABELS.statuses[status]],
    ].filter(([, value]) => value);
    const documents = list("documents").filter((d) => d && d.title);
    const questions = list("questions").filter((q) => q && q.question);
    const amendments = list("amendments").filter((a) => a && a.summary);
    return h("main", { className: "ap-container ap-main" },
      h("article", { className: "ap-call" },
        h("p", { className: "ap-call__kicker" },
          h("span", { className: `ap-tag ap-tag--${status}` }, LABELS.statuses[status]), ` ${type} · ${partner}`),
        h("h1", null, data("title") || "Titre de l'appel"),
        h("p", { className: "ap-lead" }, data("summary")),
        h("section", { className: `ap-answer ap-answer--${status}`, "aria-labelledby": "repondre" },
          h("h2", { id: "repondre" }, "Répondre"), answer),
        h("section", { "aria-labelledby": "en-bref" },
          h("h2", { id: "en-bref" }, "En bref"),
          h("dl", { className: "ap-summary" }, summary.map(([term, value]) =>
            h("div", { key: term }, h("dt", null, term), h("dd", null, value))))),
        h("section", { className: "ap-body", "aria-label": "Description de l'appel" }, widgetFor("body")),
        documents.length ? h("section", { "aria-labelledby": "documents" },
          h("h2", { id: "documents" }, "Documents"),
          h("ul", { className: "ap-documents" }, documents.map((d, i) =>
            h("li", { key: i }, h("a", { href: d.file ? String(getAsset(d.file)) : "#" }, d.title))))) : null,
        questions.length ? h("section", { "aria-labelledby": "questions" },
          h("h2", { id: "questions" }, "Questions et réponses"),
          questions.map((q, i) => h("div", { className: "ap-qa", key: i },
            h("h3", null, q.question),
            parts(q.date) ? h("p", { className: "ap-muted" }, `Réponse publiée le ${frenchDate(parts(q.date))}`) : null,
            h("p", null, q.answer)))) : null,
        amendments.length ? h("section", { "aria-labelledby": "modifications" },
          h("h2", { id: "modifications" }, "Modifications de l'appel"),
          h("ul", null, amendments.map((a, i) => h("li", { key: i },
            parts(a.date) ? h("strong", null, frenchDate(parts(a.date))) : null, ` : ${a.summary}`)))) : null));
  }

  // --- Decap's French messages, where they read badly with ours

  function frenchMessages(CMS) {
    const fr = CMS.getLocale("fr");
    Object.assign(fr.editor.editorControlPane.widget, {
      required: "%{fieldLabel} : ce champ est obligatoire.",
      regexPattern: "%{fieldLabel} : %{pattern}",
    });
    fr.editor.editorControl.field.optional = "facultatif";
    fr.collection.collectionTop.newButton = "Créer un %{collectionLabel}";
    fr.ui.toast.missingRequiredField = "L'appel n'est pas enregistré : corrigez les champs signalés en rouge.";
    CMS.registerLocale("fr", fr);
  }

  // --- a refused save: Decap warns of a missing value only, and shows each problem by its field,
  // wherever the page is scrolled. Say how many there are and bring the first into view.

  const PROBLEMS = '[class*="-ControlErrorsList"] li';
  let shown = 0;

  function reportProblems() {
    const found = document.querySelectorAll(PROBLEMS);
    if (found.length === 0 && shown > 0) document.getElementById("ap-editor-status").textContent = "";
    if (found.length > shown) {
      document.getElementById("ap-editor-status").textContent =
        `L'appel n'est pas enregistré : ${found.length} problème${found.length > 1 ? "s" : ""} à corriger.`;
      found[0].scrollIntoView({ block: "center" });
    }
    shown = found.length;
  }

  window.addEventListener("load", () => {
    const CMS = window.CMS;
    frenchMessages(CMS);
    const base = CMS.getWidget("datetime");
    CMS.registerWidget({ name: "call-datetime", controlComponent: callDateTime(base.control),
      previewComponent: base.preview, schema: base.schema });
    CMS.registerPreviewStyle(`${STATIC}/css/main.css`);
    CMS.registerPreviewTemplate("calls", CallPreview);
    CMS.init();
    new MutationObserver(reportProblems).observe(document.getElementById("nc-root"), { childList: true, subtree: true });
  });
})();
