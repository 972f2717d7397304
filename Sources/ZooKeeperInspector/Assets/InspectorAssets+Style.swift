extension InspectorAssets {
    static let style = #"""
    :root { --bg: #f6f7f9; --panel: #fff; --line: #dde1e6; --text: #1d2330; --muted: #6b7280; --accent: #2563eb;
            --holder: #15803d; --waiter: #b45309; --error: #b91c1c; }
    * { box-sizing: border-box; }
    body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--text);
           background: var(--bg); height: 100vh; display: flex; flex-direction: column; }
    code, pre, .mono, .node, .session, .tree { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: 12.5px; }
    header.top { display: flex; align-items: center; gap: 12px; padding: 8px 16px; background: #111827; color: #f9fafb; }
    header.top h1 { font-size: 16px; margin: 0; font-weight: 600; }
    .members { color: #cbd5e1; font-family: ui-monospace, monospace; font-size: 12px; }
    .badge { font-size: 11px; padding: 2px 8px; border-radius: 10px; background: #374151; }
    .badge.writes { background: #b45309; }
    .live { margin-left: auto; font-size: 12px; }
    .live::before { content: "●"; margin-right: 4px; }
    .live.on::before { color: #22c55e; } .live.off::before { color: #ef4444; } .live.snapshot::before { color: #9ca3af; }
    main { flex: 1; display: grid; grid-template-columns: minmax(240px, 28%) 1fr; min-height: 0; }
    aside { border-right: 1px solid var(--line); background: var(--panel); overflow: auto; padding: 10px; }
    #search { width: 100%; padding: 6px 8px; border: 1px solid var(--line); border-radius: 6px; margin-bottom: 8px; }
    ul.tree, ul.tree ul, ul.results { list-style: none; margin: 0; padding-left: 14px; }
    ul.tree { padding-left: 0; }
    ul.tree li > span, ul.results li { cursor: pointer; white-space: nowrap; }
    .twisty { display: inline-block; width: 14px; color: var(--muted); }
    .label:hover, ul.results li:hover { color: var(--accent); }
    li.selected > .label { background: #dbeafe; border-radius: 3px; }
    .label.ephemeral { font-style: italic; }
    .count { color: var(--muted); font-size: 11px; margin-left: 4px; }
    section#content { overflow: auto; padding: 0 18px 18px; }
    nav#tabs { position: sticky; top: 0; background: var(--bg); padding: 10px 0; display: flex; gap: 4px; z-index: 1; }
    nav#tabs button { border: 1px solid var(--line); background: var(--panel); padding: 5px 14px; border-radius: 6px; cursor: pointer; }
    nav#tabs button.active { background: var(--accent); color: #fff; border-color: var(--accent); }
    .hint, .summary { color: var(--muted); }
    article.recipe { background: var(--panel); border: 1px solid var(--line); border-radius: 8px; padding: 10px 14px; margin: 0 0 12px; }
    article.recipe > header { display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
    .kind { font-weight: 600; }
    .path { font-family: ui-monospace, monospace; color: var(--accent); text-decoration: none; }
    .flavour { color: var(--muted); font-size: 12px; margin-left: auto; }
    dl.facts { display: flex; flex-wrap: wrap; gap: 4px 16px; margin: 8px 0; }
    dl.facts div { display: flex; gap: 4px; } dl.facts dt { color: var(--muted); } dl.facts dd { margin: 0; font-weight: 500; }
    h4 { margin: 8px 0 4px; font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
    ol.holders, ol.waiters, ol.items { list-style: none; padding: 0; margin: 4px 0; }
    li.participant { display: flex; gap: 10px; align-items: baseline; padding: 3px 8px; border-radius: 5px; margin-bottom: 2px; }
    li.holder { background: #dcfce7; } li.waiter { background: #fef3c7; } li.item { background: #eef2ff; }
    .role { min-width: 64px; font-size: 11px; font-weight: 600; text-transform: uppercase; }
    li.holder .role { color: var(--holder); } li.waiter .role { color: var(--waiter); }
    .pid { font-weight: 600; } .session, .age { color: var(--muted); font-size: 12px; } .age { margin-left: auto; }
    .node { color: var(--text); text-decoration: none; } .node:hover { color: var(--accent); }
    .free { color: var(--muted); font-style: italic; }
    table { border-collapse: collapse; background: var(--panel); width: 100%; margin: 6px 0 14px; }
    th, td { border: 1px solid var(--line); padding: 4px 8px; text-align: left; vertical-align: top; }
    th { background: #f1f5f9; font-weight: 600; }
    table { font-size: 13px; } td { overflow-wrap: anywhere; }
    table.stat th { width: 170px; }
    td.error { color: var(--error); }
    pre.data { background: var(--panel); border: 1px solid var(--line); padding: 10px; border-radius: 6px; overflow: auto; max-height: 360px; white-space: pre-wrap; }
    .formats button, .writes button { margin-right: 4px; }
    .formats button.active { font-weight: 700; }
    .writes { background: #fff7ed; border: 1px solid #fed7aa; padding: 10px; border-radius: 6px; }
    .writes textarea { width: 100%; min-height: 60px; }
    .error { color: var(--error); }
    footer.status { padding: 4px 16px; font-size: 12px; color: var(--muted); border-top: 1px solid var(--line); background: var(--panel); }
    """#
}
