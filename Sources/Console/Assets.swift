/// The console's one stylesheet and one script, served from its own origin (the pages' Content
/// Security Policy allows nothing else).
enum Assets {
    /// `/console.js`: refreshes `<main>` every few seconds while the tab is visible, by fetching the
    /// same URL with the header `X-Couplet-Fragment: 1` and swapping in the answer; it pauses while
    /// the tab is hidden or a field inside `<main>` has the focus, and stops on a page that asks it to.
    static let script = """
        (function () {
          var seconds = Number(document.body.dataset.refreshSeconds || 5);
          var main = document.querySelector('main');
          if (!main || !(seconds > 0)) return;
          var timer = null;
          function busy() {
            var active = document.activeElement;
            return active && main.contains(active) && /^(INPUT|SELECT|TEXTAREA)$/.test(active.tagName);
          }
          function refresh() {
            if (document.visibilityState !== 'visible' || main.dataset.refresh !== 'on' || busy()) return;
            fetch(location.href, { headers: { 'X-Couplet-Fragment': '1' }, credentials: 'same-origin' })
              .then(function (response) {
                if (response.status === 401) { location.assign('/sign-in'); return null; }
                return response.ok ? response.text() : null;
              })
              .then(function (html) { if (html !== null && !busy()) { main.innerHTML = html; } })
              .catch(function () {});
          }
          function start() { if (timer === null) { timer = setInterval(refresh, seconds * 1000); } }
          function stop() { if (timer !== null) { clearInterval(timer); timer = null; } }
          document.addEventListener('visibilitychange', function () {
            if (document.visibilityState === 'visible') { refresh(); start(); } else { stop(); }
          });
          document.addEventListener('submit', function (event) {
            var question = event.target.dataset.confirm;
            if (question && !window.confirm(question)) { event.preventDefault(); }
          });
          if (document.visibilityState === 'visible') start();
        })();
        """

    /// `/console.css`.
    static let stylesheet = """
        :root { --ink: #1d2433; --muted: #5b6475; --line: #d9dde5; --bg: #f6f7f9; --accent: #2456c7;
                --good: #1f7a3d; --warn: #9a6400; --bad: #b3261e; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--ink); background: var(--bg); }
        header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #fff; border-bottom: 1px solid var(--line); }
        header nav { display: flex; gap: 4px; flex: 1; }
        header nav a { padding: 6px 10px; border-radius: 6px; color: var(--ink); text-decoration: none; }
        header nav a[aria-current=page] { background: var(--accent); color: #fff; }
        .brand { font-size: 16px; }
        .session { display: flex; align-items: center; gap: 10px; color: var(--muted); }
        main { padding: 8px 24px 40px; }
        h1 { font-size: 20px; margin: 12px 0 16px; }
        h2 { font-size: 16px; margin: 24px 0 8px; }
        table { border-collapse: collapse; background: #fff; border: 1px solid var(--line); margin-bottom: 12px; }
        th, td { padding: 5px 10px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
        th { background: #eef0f4; font-weight: 600; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        .badge { display: inline-block; padding: 1px 7px; border-radius: 9px; font-size: 12px; background: #e8eaef; }
        .badge.good { background: #dcefe2; color: var(--good); } .badge.warn { background: #f8ecd4; color: var(--warn); }
        .badge.bad { background: #f7dcda; color: var(--bad); }
        .flash { margin: 12px 24px 0; padding: 8px 12px; border-radius: 6px; background: #e3ebfb; border: 1px solid #b8c9f0; }
        .error { padding: 10px 14px; border-radius: 6px; background: #f7dcda; border: 1px solid #e3a39d; color: var(--bad); }
        .empty, .muted { color: var(--muted); }
        code, .badge { white-space: nowrap; }
        form.inline { display: inline; margin: 0; }
        form.inline + a { margin-left: 10px; }
        form.filters, form.actions { display: flex; flex-wrap: wrap; gap: 8px; align-items: end; margin: 8px 0 16px; }
        label { display: flex; flex-direction: column; font-size: 12px; color: var(--muted); gap: 2px; }
        input, select, button { font: inherit; padding: 4px 8px; border: 1px solid var(--line); border-radius: 5px; background: #fff; }
        button { cursor: pointer; background: #fff; } button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
        button.danger { color: var(--bad); }
        .columns { display: grid; grid-template-columns: minmax(320px, 460px) minmax(0, 1fr); gap: 28px; align-items: start; }
        .columns h2:first-child { margin-top: 0; }
        .cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 14px; }
        .card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
        .card h3 { margin: 0 0 6px; font-size: 15px; }
        .figures { display: flex; flex-wrap: wrap; gap: 4px 14px; margin: 4px 0 8px; color: var(--muted); }
        .figures b { color: var(--ink); }
        ol.timeline { list-style: none; padding: 0; margin: 0; border-left: 3px solid var(--line); }
        ol.timeline li { position: relative; margin: 0 0 12px; padding-left: 16px; }
        ol.timeline li::before { content: ""; position: absolute; left: -8px; top: 5px; width: 13px; height: 13px; border-radius: 50%;
                                 background: var(--line); border: 2px solid #fff; }
        ol.timeline li.completed::before { background: var(--good); } ol.timeline li.failed::before { background: var(--bad); }
        ol.timeline li.retry::before, ol.timeline li.cancelled::before { background: var(--warn); }
        pre { background: #fff; border: 1px solid var(--line); padding: 8px; border-radius: 5px; overflow: auto; max-width: 100%; }
        ol.timeline pre { white-space: pre-wrap; overflow-wrap: anywhere; }
        .signin { max-width: 360px; margin: 60px auto; background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 20px 24px; }
        .signin form { display: flex; flex-direction: column; gap: 12px; }
        svg.chart text { font-size: 10px; fill: var(--muted); }
        """
}
