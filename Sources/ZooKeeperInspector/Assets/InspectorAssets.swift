/// The page the inspector serves, embedded in the binary (no npm, no CDN, no external fonts): its HTML
/// here, its style and script beside (``style``, ``script``).
enum InspectorAssets {
    static let page = #"""
    <!doctype html>
    <html lang="en">
    <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>zk-inspector</title>
    <link rel="stylesheet" href="/app.css">
    </head>
    <body>
    <header class="top">
      <h1>zk-inspector</h1>
      <span id="members" class="members"></span>
      <span id="mode" class="badge"></span>
      <span id="live" class="live off" data-live="false">connecting…</span>
    </header>
    <main>
      <aside id="sidebar">
        <input id="search" type="search" placeholder="Search by path prefix, e.g. /app/locks" autocomplete="off">
        <ul id="search-results" class="results" hidden></ul>
        <ul id="tree" class="tree"></ul>
      </aside>
      <section id="content">
        <nav id="tabs">
          <button type="button" data-tab="recipes" class="active">Recipes</button>
          <button type="button" data-tab="node">Node</button>
          <button type="button" data-tab="ensemble">Ensemble</button>
        </nav>
        <div id="view-recipes" class="view"><p class="hint">Reading the tree…</p></div>
        <div id="view-node" class="view" hidden><p class="hint">Select a node in the tree.</p></div>
        <div id="view-ensemble" class="view" hidden><p class="hint">Asking the members…</p></div>
      </section>
    </main>
    <footer id="status" class="status"></footer>
    <script src="/app.js"></script>
    </body>
    </html>
    """#
}
