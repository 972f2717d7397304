extension InspectorAssets {
    /// The page's script: the tree, the views and the live feed (server-sent events).
    static let script = #"""
    "use strict";
    // zk-inspector's page: the tree (left), the recipes / node / ensemble views (right), kept live by the
    // server-sent events of /api/events. Plain DOM, no framework, no build step.
    const $ = (selector) => document.querySelector(selector);
    const params = new URLSearchParams(location.search);
    const state = {
      info: null, selected: null, format: null, recipes: null, clockOffset: 0, live: false, renders: 0,
      expanded: new Set(["/"]), children: new Map(),
      pageId: Math.random().toString(36).slice(2), report: params.has("report"),
    };

    function el(tag, attributes, ...children) {
      const element = document.createElement(tag);
      for (const [key, value] of Object.entries(attributes || {})) {
        if (key === "class") element.className = value;
        else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
        else if (value !== null && value !== undefined && value !== false) element.setAttribute(key, value === true ? "" : String(value));
      }
      for (const child of children.flat()) {
        if (child === null || child === undefined || child === false) continue;
        element.append(child instanceof Node ? child : document.createTextNode(String(child)));
      }
      return element;
    }

    async function api(path, options) {
      const response = await fetch(path, options);
      const text = await response.text();
      let body;
      try { body = JSON.parse(text); } catch { body = { error: text }; }
      if (!response.ok) throw new Error(body.error || response.statusText);
      return body;
    }

    function duration(ms) {
      if (ms < 1000) return Math.max(0, Math.round(ms)) + " ms";
      const seconds = ms / 1000;
      if (seconds < 60) return seconds.toFixed(1) + " s";
      const minutes = Math.floor(seconds / 60);
      if (minutes < 60) return minutes + " min " + Math.floor(seconds % 60) + " s";
      return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
    }
    const serverNow = () => Date.now() + state.clockOffset;
    // `_c_<uuid>-lock-0000000003` → `lock-0000000003`: the protection prefix says nothing to a reader.
    const shortName = (name) => { const m = /^_c_[0-9a-f-]{36}-(.*)$/.exec(name); return m ? m[1] : name; };
    const parentOf = (path) => path.lastIndexOf("/") <= 0 ? "/" : path.slice(0, path.lastIndexOf("/"));
    const query = (path) => encodeURIComponent(path);

    function ageSpan(createdMs) {
      return el("span", { class: "age", "data-created": createdMs }, duration(serverNow() - createdMs));
    }
    setInterval(() => {
      for (const span of document.querySelectorAll(".age[data-created]")) {
        span.textContent = duration(serverNow() - Number(span.dataset.created));
      }
    }, 1000);

    // ---- tabs
    function showTab(name) {
      for (const button of document.querySelectorAll("#tabs button")) button.classList.toggle("active", button.dataset.tab === name);
      for (const view of ["recipes", "node", "ensemble"]) $("#view-" + view).hidden = view !== name;
    }
    for (const button of document.querySelectorAll("#tabs button")) button.addEventListener("click", () => showTab(button.dataset.tab));

    // ---- tree
    async function fetchChildren(path) {
      try {
        state.children.set(path, (await api("/api/children?path=" + query(path))).children);
      } catch (error) {
        state.children.delete(path);
        state.expanded.delete(path);
      }
    }
    function treeItem(row) {
      const open = state.expanded.has(row.path);
      const item = el("li", { "data-path": row.path, class: row.path === state.selected ? "selected" : "" },
        el("span", { class: "twisty", onclick: () => toggle(row.path) }, row.numChildren ? (open ? "▾" : "▸") : "·"),
        el("span", { class: "label" + (row.ephemeral ? " ephemeral" : ""), onclick: () => select(row.path), title: row.path },
          row.name, row.numChildren ? el("span", { class: "count" }, row.numChildren) : null));
      if (open && state.children.has(row.path)) item.append(el("ul", {}, state.children.get(row.path).map(treeItem)));
      return item;
    }
    function renderTree() {
      const root = treeItem({ name: "/", path: "/", numChildren: 1, ephemeral: false });
      root.querySelector(".count").remove();  // the root is always expandable; its count is its children's
      $("#tree").replaceChildren(root);
    }
    async function toggle(path) {
      if (state.expanded.has(path)) state.expanded.delete(path);
      else { state.expanded.add(path); await fetchChildren(path); }
      renderTree();
    }
    async function refreshTree() {
      await Promise.all([...state.expanded].map(fetchChildren));
      renderTree();
    }

    // ---- search
    let searchTimer = null;
    $("#search").addEventListener("input", () => {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(runSearch, 200);
    });
    async function runSearch() {
      const prefix = $("#search").value.trim();
      const results = $("#search-results");
      if (!prefix) { results.hidden = true; $("#tree").hidden = false; return; }
      try {
        const answer = await api("/api/search?prefix=" + query(prefix));
        const rows = answer.paths.map((path) => el("li", { onclick: () => select(path) }, path));
        if (answer.total > answer.paths.length) rows.push(el("li", { class: "hint" }, "… " + (answer.total - answer.paths.length) + " more"));
        if (!rows.length) rows.push(el("li", { class: "hint" }, "no path starts with " + prefix));
        results.replaceChildren(...rows);
      } catch (error) {
        results.replaceChildren(el("li", { class: "error" }, error.message));
      }
      results.hidden = false;
      $("#tree").hidden = true;
    }

    // ---- node
    async function select(path) {
      state.selected = path;
      // Open the way to it, so the tree shows where it is.
      for (let p = parentOf(path); ; p = parentOf(p)) { state.expanded.add(p); if (p === "/") break; }
      showTab("node");
      await Promise.all([loadNode(), refreshTree()]);
    }
    async function loadNode() {
      const path = state.selected;
      if (!path) return;
      try {
        renderNode(await api("/api/node?path=" + query(path)));
      } catch (error) {
        $("#view-node").replaceChildren(el("h2", { class: "mono" }, path), el("p", { class: "error" }, error.message));
      }
    }
    function renderNode(node) {
      const data = node.data, stat = node.stat;
      const available = { text: data.text !== null, json: data.json !== null, hex: true };
      if (!state.format || !available[state.format]) state.format = available.json ? "json" : available.text ? "text" : "hex";
      const shown = state.format === "json" ? data.json : state.format === "text" ? data.text : data.hex;
      const formats = el("div", { class: "formats" }, ["text", "json", "hex"].map((format) =>
        el("button", { type: "button", class: format === state.format ? "active" : "", disabled: !available[format],
          onclick: () => { state.format = format; renderNode(node); } }, format.toUpperCase())));
      const owner = stat.ephemeralOwner !== "0x0" && !stat.ephemeralOwner.startsWith("0x8") && !stat.ephemeralOwner.startsWith("0xff");
      const statRows = [
        ["czxid", stat.czxid], ["mzxid", stat.mzxid], ["pzxid", stat.pzxid],
        ["ctime", stat.ctimeText], ["mtime", stat.mtimeText],
        ["version", stat.version], ["cversion", stat.cversion], ["aversion", stat.aversion],
        ["ephemeralOwner", stat.ephemeralOwner + (owner ? "  (ephemeral: owner session)" : "")],
        ["dataLength", stat.dataLength], ["numChildren", stat.numChildren],
      ];
      const parts = [
        el("h2", { class: "mono" }, node.path),
        formats,
        el("pre", { class: "data" }, data.length === 0 ? "(no data)" : shown),
        el("h4", {}, "Stat"),
        el("table", { class: "stat" }, statRows.map(([name, value]) => el("tr", {}, el("th", {}, name), el("td", { class: "mono" }, value)))),
        el("h4", {}, "ACL"),
        el("table", { class: "acl" }, el("tr", {}, el("th", {}, "scheme"), el("th", {}, "id"), el("th", {}, "perms")),
          node.acl.map((entry) => el("tr", {}, el("td", {}, entry.scheme), el("td", { class: "mono" }, entry.id), el("td", { class: "mono" }, entry.perms)))),
        el("h4", {}, "Children (" + node.children.length + ")"),
        el("ul", { class: "results" }, node.children.slice(0, 500).map((name) =>
          el("li", { onclick: () => select(node.path === "/" ? "/" + name : node.path + "/" + name) }, name))),
      ];
      if (state.info && state.info.allowWrites) parts.push(writePanel(node));
      $("#view-node").replaceChildren(...parts);
    }

    // ---- writes (only offered when the inspector runs with --allow-writes; each asks first)
    async function write(method, path, body, extra) {
      const url = "/api/node?path=" + query(path) + (extra || "");
      try {
        await api(url, { method, body, headers: { "X-Shepherd-Inspector": "write", "Content-Type": "application/octet-stream" } });
        setStatus(method + " " + path + ": done");
      } catch (error) {
        alert(method + " " + path + " failed: " + error.message);
      }
    }
    function writePanel(node) {
      const data = el("textarea", {}, node.data.text || "");
      const childName = el("input", { placeholder: "child name" });
      const childData = el("input", { placeholder: "child data" });
      const version = node.stat.version;
      return el("div", { class: "writes" },
        el("h4", {}, "Change (writes are enabled)"),
        data,
        el("button", { type: "button", onclick: async () => {
          if (confirm("Set the data of " + node.path + " (expected version " + version + ")?")) {
            await write("PUT", node.path, data.value, "&version=" + version); await loadNode();
          }
        } }, "Save data"),
        el("div", {}, childName, childData, el("button", { type: "button", onclick: async () => {
          const name = childName.value.trim();
          if (!name) return;
          const path = node.path === "/" ? "/" + name : node.path + "/" + name;
          if (confirm("Create " + path + "?")) { await write("POST", path, childData.value); await loadNode(); }
        } }, "Create child")),
        el("button", { type: "button", onclick: async () => {
          if (confirm("Delete " + node.path + " (expected version " + version + ")? This cannot be undone.")) {
            await write("DELETE", node.path, null, "&version=" + version); await select(parentOf(node.path));
          }
        } }, "Delete node"));
    }

    // ---- recipes
    const kindLabels = {
      lock: "Lock", semaphore: "Semaphore", readWriteLock: "Read/write lock", leaderLatch: "Leader latch",
      leaderSelector: "Leader selector", queue: "Queue",
      doubleBarrier: "Double barrier", barrier: "Barrier", serviceDiscovery: "Service discovery", group: "Group", counter: "Counter",
    };
    const holderLabels = { leaderLatch: "leader", leaderSelector: "leader", queue: "processing", doubleBarrier: "arrived", group: "member", semaphore: "lease" };
    const factLabels = {
      fencingToken: "fencing token", ownerSession: "owner session", heldForMs: "held for", contenders: "contenders",
      leader: "leader", term: "term", leaderForMs: "leading for", leaderSession: "leader session", participants: "participants",
      depth: "depth", oldestAgeMs: "oldest item", processing: "being processed", arrived: "arrived", ready: "ready",
      members: "members", value: "value", version: "version", readers: "readers", writers: "writers", leases: "leases held",
      waiting: "waiting", state: "state", setForMs: "set for",
    };

    function participant(p, kind, label) {
      return el("li", { class: "participant " + kind, "data-node": p.name, "data-path": p.path, title: p.path },
        el("span", { class: "role" }, label),
        el("a", { class: "node", href: "#", onclick: (event) => { event.preventDefault(); select(p.path); } }, shortName(p.name)),
        p.text ? el("span", { class: "pid" }, p.text.length > 60 ? p.text.slice(0, 60) + "…" : p.text) : null,
        p.session !== "0x0" ? el("span", { class: "session", title: "owner session (ephemeralOwner)" }, "session " + p.session) : null,
        ageSpan(p.createdMs));
    }
    function facts(recipe, generatedAt) {
      const entries = Object.entries(recipe.facts).filter(([name]) => name !== "services");
      return el("dl", { class: "facts" }, entries.map(([name, value]) => {
        const shown = name.endsWith("Ms") ? ageSpan(generatedAt - value) : String(value);
        return el("div", { "data-fact": name }, el("dt", {}, (factLabels[name] || name) + ":"), el("dd", {}, shown));
      }));
    }
    function services(recipe) {
      const list = recipe.facts.services || [];
      return list.map((service) => el("div", { class: "service" },
        el("h4", {}, "Service " + service.name + " (" + service.instances.length + ")"),
        el("table", {}, el("tr", {}, el("th", {}, "id"), el("th", {}, "address"), el("th", {}, "enabled"), el("th", {}, "payload")),
          service.instances.map((entry) => el("tr", {},
            el("td", { class: "mono" }, entry.id),
            el("td", { class: "mono" }, (entry.instance.address || "") + (entry.instance.port ? ":" + entry.instance.port : "")),
            el("td", {}, entry.instance.enabled === false ? "no" : "yes"),
            el("td", { class: "mono" }, entry.instance.payload === undefined ? "" : JSON.stringify(entry.instance.payload)))))));
    }
    function recipeCard(recipe, generatedAt) {
      const holderLabel = holderLabels[recipe.kind] || "holder";
      const lockLike = ["lock", "readWriteLock", "semaphore", "leaderLatch", "leaderSelector"].includes(recipe.kind);
      const label = (p, fallback) => recipe.kind === "readWriteLock" ? p.role : fallback;
      return el("article", { class: "recipe " + recipe.kind, "data-kind": recipe.kind, "data-recipe-path": recipe.path },
        el("header", {},
          el("span", { class: "kind" }, kindLabels[recipe.kind] || recipe.kind),
          el("a", { class: "path", href: "#", onclick: (event) => { event.preventDefault(); select(recipe.path); } }, recipe.path),
          el("span", { class: "flavour" }, recipe.flavour)),
        facts(recipe, generatedAt),
        recipe.holders.length
          ? el("ol", { class: "holders" }, recipe.holders.map((p) => participant(p, "holder", label(p, holderLabel))))
          : (lockLike ? el("p", { class: "free" }, "nobody holds it") : null),
        recipe.waiters.length ? el("h4", {}, "Waiting, in order") : null,
        recipe.waiters.length ? el("ol", { class: "waiters" }, recipe.waiters.map((p, i) => participant(p, "waiter", label(p, "#" + (i + 1))))) : null,
        recipe.kind === "queue" && recipe.items.length ? el("h4", {}, "Items, oldest first") : null,
        recipe.kind === "queue" ? el("ol", { class: "items" }, recipe.items.slice(0, 20).map((p) => participant(p, "item", "item"))) : null,
        recipe.kind === "serviceDiscovery" ? services(recipe) : null);
    }
    function renderRecipes() {
      const data = state.recipes;
      const cards = data.recipes.map((recipe) => recipeCard(recipe, data.generatedAt));
      const summary = data.recipes.length + " recipe(s) recognised in " + data.nodeCount + " nodes" + (data.truncated ? " (tree read truncated)" : "");
      $("#view-recipes").replaceChildren(el("p", { class: "summary" }, summary),
        ...(cards.length ? cards : [el("p", { class: "hint" }, "No recipe layouts found.")]));
      state.renders += 1;
      report();
    }

    // ---- ensemble
    function renderEnsemble(data) {
      const columns = ["address", "mode", "zxid", "connections", "outstanding", "latency", "nodeCount", "watches", "version"];
      const titles = ["member", "mode", "zxid", "conns", "outstanding", "latency ms min/avg/max", "znodes", "watches", "version"];
      const refused = data.members.filter((member) => member.ok && member.mntrError);
      const rows = data.members.map((member) => member.ok
        ? el("tr", { "data-member": member.address }, columns.map((c) => el("td", { class: c === "address" || c === "zxid" ? "mono" : "" }, member[c])))
        : el("tr", { "data-member": member.address }, el("td", { class: "mono" }, member.address),
            el("td", { class: "error", colspan: columns.length - 1 }, member.error)));
      $("#view-ensemble").replaceChildren(
        el("p", { class: "summary" }, "Four-letter words srvr and mntr, refreshed live (" + new Date(data.at).toLocaleTimeString() + ")."),
        data.members.length ? el("table", {}, el("tr", {}, titles.map((t) => el("th", {}, t))), rows) : el("p", { class: "hint" }, "No members configured."),
        ...refused.map((member) => el("p", { class: "hint" }, member.address + ": " + member.mntrError + " (for watches; the rest comes from srvr)")));
    }

    // ---- live
    function setLive(live) {
      state.live = live;
      const badge = $("#live");
      badge.className = "live " + (live ? "on" : "off");
      badge.dataset.live = String(live);
      badge.textContent = live ? "live" : "reconnecting…";
    }
    function setStatus(text) { $("#status").textContent = text; }
    // Throttled, not debounced: under a steady stream of changes (a busy lock) the views still refresh,
    // at most every 150 ms.
    let treeTimer = null, nodeTimer = null;
    function onChange(change) {
      if (treeTimer === null) treeTimer = setTimeout(() => { treeTimer = null; refreshTree(); }, 150);
      if (state.selected && nodeTimer === null && (change.path === state.selected || parentOf(change.path) === state.selected)) {
        nodeTimer = setTimeout(() => { nodeTimer = null; loadNode(); }, 150);
      }
    }
    function connect() {
      const events = new EventSource("/api/events");
      events.onopen = () => setLive(true);
      events.onerror = () => setLive(false);  // EventSource reconnects by itself
      events.addEventListener("recipes", (event) => {
        state.recipes = JSON.parse(event.data);
        renderRecipes();
      });
      events.addEventListener("ensemble", (event) => {
        const ensemble = JSON.parse(event.data);
        // Sent fresh every few seconds: the server's clock, against which ages tick (the browser's may differ).
        state.clockOffset = ensemble.at - Date.now();
        renderEnsemble(ensemble);
      });
      events.addEventListener("change", (event) => onChange(JSON.parse(event.data)));
      events.addEventListener("status", (event) => {
        const status = JSON.parse(event.data);
        setStatus("ZooKeeper: " + status.text + (status.session ? " · session " + status.session : ""));
      });
    }

    // ---- tests: with ?report=1 the page posts what its DOM shows after each render (read back from the DOM)
    function report() {
      if (!state.report) return;
      const recipes = [...document.querySelectorAll("#view-recipes article.recipe")].map((card) => ({
        path: card.dataset.recipePath, kind: card.dataset.kind,
        holders: [...card.querySelectorAll("li.holder")].map((item) => item.dataset.node),
        waiters: [...card.querySelectorAll("li.waiter")].map((item) => item.dataset.node),
        text: card.textContent,
      }));
      const body = JSON.stringify({ pageId: state.pageId, renders: state.renders, live: state.live, recipes });
      fetch("/api/render-report", { method: "POST", headers: { "Content-Type": "application/json" }, body }).catch(() => {});
    }

    async function start() {
      try {
        state.info = await api("/api/info");
        state.clockOffset = state.info.now - Date.now();
        $("#members").textContent = state.info.members.join(", ");
        const mode = $("#mode");
        mode.textContent = state.info.allowWrites ? "writes enabled" : "read-only";
        mode.classList.toggle("writes", state.info.allowWrites);
      } catch (error) {
        setStatus("cannot reach the inspector: " + error.message);
      }
      if (params.has("snapshot")) {
        // A still picture (screenshots): one read of everything, no event stream left open.
        $("#live").textContent = "snapshot";
        $("#live").className = "live snapshot";
        state.recipes = await api("/api/recipes");
        renderRecipes();
        const ensemble = await api("/api/ensemble");
        state.clockOffset = ensemble.at - Date.now();
        renderEnsemble(ensemble);
      } else {
        connect();
      }
      // Deep links: ?node=/path opens a node, ?tab=ensemble a view.
      if (params.get("node")) await select(params.get("node"));
      else await refreshTree();
      if (params.get("tab")) showTab(params.get("tab"));
    }
    start();
    """#
}
