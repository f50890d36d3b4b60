// Search over the calls with pagefind (its shards merged). Without JavaScript the page keeps its
// listings; with it, results take the listings' place, each call's status applied as of now.
import { LABELS, deadlineNodes, statusAt } from "./status.js";

const form = document.getElementById("ap-search");
const statusLine = document.getElementById("ap-search-status");
const results = document.getElementById("ap-search-results");
const browse = document.getElementById("ap-browse");
const FILTERS = ["type", "theme", "partner", "status"];
const PAGE = 20;
let latest = 0; // each search's number: a slower earlier search must not overwrite a later one

function element(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

async function run(pagefind) {
  const mine = ++latest;
  const params = new URLSearchParams();
  const query = form.q.value.trim();
  const filters = {};
  if (query) params.set("q", query);
  for (const name of FILTERS) {
    const value = form.elements[name].value;
    if (value) { filters[name] = value; params.set(name, value); }
  }
  history.replaceState(null, "", params.toString() ? `?${params}` : location.pathname);
  results.replaceChildren();
  if (!query && !Object.keys(filters).length) { statusLine.textContent = ""; browse.hidden = false; return; }
  browse.hidden = true;
  statusLine.textContent = "Recherche en cours…";
  const search = await pagefind.search(query || null, { filters });
  const items = await Promise.all(search.results.slice(0, PAGE).map((r) => r.data()));
  if (mine !== latest) return;
  const count = search.results.length;
  statusLine.textContent = count === 0 ? "Aucun appel ne correspond à votre recherche."
    : `${count} appel${count > 1 ? "s" : ""} trouvé${count > 1 ? "s" : ""}${count > PAGE ? ` (les ${PAGE} premiers affichés)` : ""}.`;
  const now = Date.now();
  for (const item of items) {
    const meta = item.meta;
    const status = statusAt(meta.opens, meta.closes, now);
    const data = { opensText: meta.opens_text, closes: meta.closes, closesText: meta.closes_text, timezone: meta.timezone };
    const li = element("li", { class: "ap-card" });
    const h2 = element("h2", { class: "ap-card__title" });
    h2.append(element("a", { href: item.url }, meta.title));
    const tag = element("span", { class: `ap-tag ap-tag--${status}` }, LABELS[status]);
    const line = element("p", { class: "ap-card__meta" });
    line.append(tag, ` ${[item.filters.type, item.filters.partner].flat().join(" · ")}`);
    const deadline = element("p", { class: "ap-card__deadline" });
    deadline.append(...deadlineNodes(data, status, now));
    li.append(h2, line, element("p", { class: "ap-card__summary" }, meta.summary || ""), deadline);
    results.append(li);
  }
}

// Pagefind and the shards of its index load when the person starts a search (the field gets the
// focus, a filter changes, the address asks for one): the page itself loads nothing more. A search
// asked before they are ready runs as soon as they are.
async function load() {
  const pagefind = await import(form.dataset.pagefind);
  for (const shard of (form.dataset.pagefindShards || "").split(" ").filter(Boolean)) {
    await pagefind.mergeIndex(shard);
  }
  await pagefind.init();
  return pagefind;
}

let loading = null;
const ready = () => (loading = loading || load());
const search = () => ready().then(run).catch(unavailable);
const params = new URLSearchParams(location.search);
form.q.value = params.get("q") || "";
for (const name of FILTERS) if (params.get(name)) form.elements[name].value = params.get(name);
form.addEventListener("submit", (event) => { event.preventDefault(); search(); });
for (const name of FILTERS) form.elements[name].addEventListener("change", search);
form.q.addEventListener("focus", () => ready().catch(unavailable), { once: true });
if (params.toString()) search();

function unavailable() {
  form.hidden = true;
  statusLine.textContent = "La recherche n'est pas disponible : parcourez les appels par type, thème ou partenaire ci-dessous.";
}
