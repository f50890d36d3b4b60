// Search over call pages with pagefind. Without JavaScript the page keeps its listings.
const form = document.getElementById("ap-search");
const statusLine = document.getElementById("ap-search-status");
const results = document.getElementById("ap-search-results");
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
  if (!query && !Object.keys(filters).length) { statusLine.textContent = ""; return; }
  statusLine.textContent = "Recherche en cours…";
  const search = await pagefind.search(query || null, { filters });
  const items = await Promise.all(search.results.slice(0, PAGE).map((r) => r.data()));
  if (mine !== latest) return;
  const count = search.results.length;
  statusLine.textContent = count === 0 ? "Aucun appel ne correspond à votre recherche."
    : `${count} appel${count > 1 ? "s" : ""} trouvé${count > 1 ? "s" : ""}${count > PAGE ? ` (les ${PAGE} premiers affichés)` : ""}.`;
  for (const item of items) {
    const li = element("li", { class: "ap-card" });
    const h2 = element("h2", { class: "ap-card__title" });
    h2.append(element("a", { href: item.url }, item.meta.title));
    li.append(h2);
    li.append(element("p", { class: "ap-card__meta" }, [item.filters.status, item.filters.type, item.filters.partner].flat().join(" · ")));
    li.append(element("p", { class: "ap-card__summary" }, item.meta.summary || ""));
    li.append(element("p", { class: "ap-card__deadline" }, item.meta.deadline || ""));
    results.append(li);
  }
}

async function start() {
  const pagefind = await import(form.dataset.pagefind);
  await pagefind.init();
  const params = new URLSearchParams(location.search);
  form.q.value = params.get("q") || "";
  for (const name of FILTERS) if (params.get(name)) form.elements[name].value = params.get(name);
  form.hidden = false;
  form.addEventListener("submit", (event) => { event.preventDefault(); run(pagefind); });
  for (const name of FILTERS) form.elements[name].addEventListener("change", () => run(pagefind));
  if (params.toString()) run(pagefind);
}

start().catch(() => { statusLine.textContent = "La recherche n'est pas disponible : parcourez les appels par type, thème ou partenaire ci-dessous."; });
