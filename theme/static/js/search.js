// Search over the calls with the site's own index (generator/search.py: its layout, and the same
// cutting of words). Without JavaScript the page keeps its listings; with it, results take the
// listings' place, each call's status applied as of now.
import { LABELS, deadlineNodes, statusAt } from "./status.js";

const form = document.getElementById("ap-search");
const statusLine = document.getElementById("ap-search-status");
const results = document.getElementById("ap-search-results");
const browse = document.getElementById("ap-browse");
const base = form.dataset.index;
const FILTERS = ["type", "theme", "partner", "status"];
const PAGE = 20;
const BLOCK = 16; // result cards per file (search.BLOCK)
const ORDER = { open: 0, upcoming: 1, closed: 2 };
let latest = 0; // each search's number: a slower earlier search must not overwrite a later one

function element(tag, attrs = {}, text = "") {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
  if (text) node.textContent = text;
  return node;
}

// Each file once per page; a word file that does not exist holds no word.
const files = new Map();
function get(path, missing) {
  if (!files.has(path)) {
    files.set(path, fetch(base + path).then((response) => {
      if (response.ok) return response.json();
      if (response.status === 404 && missing !== undefined) return missing;
      throw new Error(`${path}: ${response.status}`);
    }));
  }
  return files.get(path);
}

// search.normal: lower case, no accent, "œ" as "oe", no plural mark, the commonest words left out.
export function normal(word, stopwords) {
  let bare = word.normalize("NFKD").replace(/\p{M}/gu, "").replace(/œ/g, "oe").replace(/æ/g, "ae").replace(/ß/g, "ss");
  if (bare.length > 3 && /[sx]$/.test(bare)) bare = bare.slice(0, -1);
  return bare.length < 2 || stopwords.has(bare) ? "" : bare;
}

// The words of a text as the index holds them (search.py: WORD, then `normal`).
export function wordsOf(text, stopwords) {
  return (text.toLowerCase().match(/[\p{L}\p{N}]+/gu) || []).map((w) => normal(w, stopwords)).filter(Boolean);
}

export function prefixFile(word) {
  const prefix = [...word].slice(0, 2).join("");
  return /^[a-z0-9]+$/.test(prefix) ? prefix : `_${[...prefix].map((c) => c.codePointAt(0).toString(16)).join("-")}`;
}

// The calls of one shard that hold every word (as a word's beginning), each with its score.
async function matches(shard, words) {
  let found = null;
  for (const word of words) {
    const chunk = await get(`${shard}/mots/${prefixFile(word)}.json`, {});
    const scores = new Map();
    for (const [indexed, postings] of Object.entries(chunk)) {
      if (!indexed.startsWith(word)) continue;
      for (let i = 0; i < postings.length; i += 2) {
        scores.set(postings[i], Math.max(scores.get(postings[i]) || 0, postings[i + 1]));
      }
    }
    found = found === null ? scores
      : new Map([...found].filter(([n]) => scores.has(n)).map(([n, score]) => [n, score + scores.get(n)]));
    if (!found.size) break;
  }
  return found;
}

async function find(query, filters, now) {
  const index = await get("index.json");
  const stopwords = new Set(index.stopwords);
  const words = [...new Set(wordsOf(query, stopwords))];
  const shards = await Promise.all(index.shards.map(async (shard) => {
    const [data, scores] = await Promise.all([get(`${shard}/appels.json`), words.length ? matches(shard, words) : null]);
    const { labels, calls } = data;
    const found = [];
    calls.forEach(([type, partner, themes, opens, closes], n) => {
      if (scores && !scores.has(n)) return;
      const status = statusAt(opens, closes, now);
      if (filters.type && labels.type[type] !== filters.type) return;
      if (filters.partner && labels.partner[partner] !== filters.partner) return;
      if (filters.theme && !themes.some((t) => labels.theme[t] === filters.theme)) return;
      if (filters.status && LABELS[status] !== filters.status) return;
      found.push({ shard, n, status, opens, closes, score: scores ? scores.get(n) : 0,
        type: labels.type[type], partner: labels.partner[partner] });
    });
    return found;
  }));
  // Best score first; then open calls by deadline, upcoming ones by opening, closed ones latest first.
  const when = (c) => Date.parse(c.status === "upcoming" ? c.opens : c.closes || "9999-12-31T00:00:00Z");
  return shards.flat().sort((a, b) => b.score - a.score || ORDER[a.status] - ORDER[b.status]
    || (a.status === "closed" ? when(b) - when(a) : when(a) - when(b)) || a.shard - b.shard || a.n - b.n);
}

async function run() {
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
  const now = Date.now();
  const found = await find(query, filters, now);
  const cards = await Promise.all(found.slice(0, PAGE).map(async (c) =>
    (await get(`${c.shard}/fiches/${Math.floor(c.n / BLOCK)}.json`))[c.n % BLOCK]));
  if (mine !== latest) return;
  const count = found.length;
  statusLine.textContent = count === 0 ? "Aucun appel ne correspond à votre recherche."
    : `${count} appel${count > 1 ? "s" : ""} trouvé${count > 1 ? "s" : ""}${count > PAGE ? ` (les ${PAGE} premiers affichés)` : ""}.`;
  results.replaceChildren(...found.slice(0, PAGE).map((c, i) => {
    const card = cards[i];
    const data = { opensText: card.opens_text, closes: c.closes, closesText: card.closes_text, timezone: card.timezone };
    const li = element("li", { class: "ap-card" });
    const h2 = element("h2", { class: "ap-card__title" });
    h2.append(element("a", { href: card.url }, card.title));
    const line = element("p", { class: "ap-card__meta" });
    line.append(element("span", { class: `ap-tag ap-tag--${c.status}` }, LABELS[c.status]), ` ${c.type} · ${c.partner}`);
    const deadline = element("p", { class: "ap-card__deadline" });
    deadline.append(...deadlineNodes(data, c.status, now));
    li.append(h2, line, element("p", { class: "ap-card__summary" }, card.summary || ""), deadline);
    return li;
  }));
}

// The index loads when the person starts a search (the field gets the focus, a filter changes, the
// address asks for one): the page itself loads nothing more.
const search = () => run().catch(unavailable);
const params = new URLSearchParams(location.search);
form.q.value = params.get("q") || "";
for (const name of FILTERS) if (params.get(name)) form.elements[name].value = params.get(name);
form.addEventListener("submit", (event) => { event.preventDefault(); search(); });
for (const name of FILTERS) form.elements[name].addEventListener("change", search);
form.q.addEventListener("focus", () => get("index.json").then((index) => Promise.all(
  index.shards.map((shard) => get(`${shard}/appels.json`)))).catch(unavailable), { once: true });
if (params.toString()) search();

function unavailable() {
  form.hidden = true;
  statusLine.textContent = "La recherche n'est pas disponible : parcourez les appels par type, thème ou partenaire ci-dessous.";
}
