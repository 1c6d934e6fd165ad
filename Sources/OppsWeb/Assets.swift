/// The app's stylesheet and script, in the binary: no CDN, no build step, nothing fetched.
enum Assets {
    static let css = """
        :root { --ink: #1d2733; --muted: #5b6776; --line: #d9dee5; --bg: #f4f6f8; --card: #fff; --accent: #1f6feb; --bad: #b42318; --ok: #067647; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", sans-serif; color: var(--ink); background: var(--bg); }
        header { display: flex; flex-wrap: wrap; gap: 4px 16px; align-items: center; padding: 8px 16px; background: #12324f; color: #fff; }
        header nav a, header .who, header .lang { white-space: nowrap; }
        header a { color: #dbe8f6; text-decoration: none; margin-right: 12px; }
        header a.on { color: #fff; font-weight: 600; border-bottom: 2px solid #fff; }
        header .who { margin-left: auto; }
        header .lang a { margin: 0 0 0 6px; }
        .bar { display: flex; flex-wrap: wrap; gap: 4px 8px; align-items: center; padding: 6px 16px; background: #e8edf3; border-bottom: 1px solid var(--line); color: var(--muted); }
        .bar .seg { white-space: nowrap; }
        .day { white-space: nowrap; }
        .bar form { margin-left: auto; }
        .dot { display: inline-block; width: 9px; height: 9px; border-radius: 50%; background: #98a2b3; margin-right: 4px; }
        .dot.on { background: #12b76a; } .dot.off { background: #f04438; }
        main { padding: 12px 16px; }
        .msg { margin: 8px 16px 0; padding: 8px 12px; border-radius: 6px; }
        .msg.ok { background: #ecfdf3; color: var(--ok); } .msg.bad { background: #fef3f2; color: var(--bad); }
        .msg ul { margin: 4px 0 0 18px; padding: 0; }
        .filters { margin-bottom: 10px; display: flex; gap: 12px; flex-wrap: wrap; align-items: center; }
        details.group summary { cursor: pointer; margin: 18px 0 6px; } details.group summary h2 { display: inline; margin: 0; }
        details.group summary .empty { color: var(--muted); font-size: 13px; }
        details.new { margin-bottom: 10px; } details.new summary { cursor: pointer; color: var(--accent); font-weight: 600; }
        details.new form { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; margin-top: 6px; }
        .board { display: flex; gap: 10px; overflow-x: auto; align-items: flex-start; }
        .column { flex: 0 0 230px; background: #eaeef2; border-radius: 8px; padding: 8px; min-height: 120px; }
        .column.drop { outline: 2px dashed var(--accent); }
        .column h2 { font-size: 14px; margin: 0; display: flex; justify-content: space-between; }
        .count { background: #d0d7e0; border-radius: 10px; padding: 0 7px; font-size: 12px; font-weight: normal; }
        .sum { color: var(--muted); font-size: 12px; min-height: 16px; margin-bottom: 6px; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 6px; padding: 7px 8px; margin-bottom: 7px; cursor: grab; }
        .card .name { font-weight: 600; color: var(--ink); text-decoration: none; display: block; }
        .card .acct, .card .owner, .card .next { color: var(--muted); font-size: 12px; }
        .card .amt { font-variant-numeric: tabular-nums; }
        .card .move { margin-top: 4px; display: flex; gap: 4px; } .card .move select { flex: 1; min-width: 0; }
        .badge { display: inline-block; font-size: 11px; border-radius: 4px; padding: 0 5px; margin-top: 3px; }
        .badge.overdue { background: #fee4e2; color: var(--bad); } .badge.stale { background: #fef0c7; color: #93370d; }
        .badge.pending { background: #d1e9ff; color: #175cd3; } .badge.conflict { background: #fbe8ff; color: #9f1ab1; }
        .badge.locked { background: #fef0c7; color: #93370d; }
        .badge.approval { background: #e0eaff; color: #3538cd; } .badge.twice { background: #fef3f2; color: var(--bad); }
        .badge.need { background: #ecfdf3; color: #067647; }
        .more { display: block; text-align: center; font-size: 12px; }
        .wide { max-width: 100%; overflow-x: auto; } /* a table wider than a phone scrolls inside itself, not the page */
        table.fields, table.list { border-collapse: collapse; background: var(--card); min-width: 60%; }
        table.fields th, table.list th { text-align: left; font-weight: 500; color: var(--muted); padding: 4px 10px; width: 180px; }
        table.fields td, table.list td { padding: 4px 10px; border-top: 1px solid var(--line); }
        td.ro { color: var(--ink); }
        form.field, form.inline { display: inline-flex; gap: 6px; margin: 0; }
        form.field .unit { align-self: center; margin-left: -2px; color: var(--muted); }
        .timeline { list-style: none; padding: 0; } .timeline li { padding: 3px 0; border-bottom: 1px solid var(--line); }
        .timeline time { color: var(--muted); font-variant-numeric: tabular-nums; margin-right: 6px; }
        h1 small { color: var(--muted); font-weight: normal; font-size: 14px; }
        p.none { color: var(--muted); }
        h2 { font-size: 15px; margin: 18px 0 6px; }
        .chart { max-width: 760px; width: 100%; background: var(--card); border: 1px solid var(--line); border-radius: 6px; }
        .chart.narrow { display: none; }
        .chart .label { font-size: 12px; fill: var(--ink); } .chart .value { font-size: 12px; fill: #102a43; } .chart .conv { font-size: 12px; fill: var(--muted); } .chart .value.in { fill: #fff; font-weight: 600; }
        .funnel.s0 { fill: #84caff; } .funnel.s1 { fill: #53b1fd; } .funnel.s2 { fill: #2e90fa; } .funnel.s3 { fill: #1570ef; }
        .fc-pipeline { fill: #b2ddff; } .fc-weighted { fill: #2e90fa; } .fc-won { fill: #12b76a; } .chart .value.small { font-size: 11px; }
        .legend .key { display: inline-block; width: 12px; height: 12px; border-radius: 2px; margin: 0 4px 0 10px; vertical-align: -1px; }
        .legend .key.fc-pipeline { background: #b2ddff; } .legend .key.fc-weighted { background: #2e90fa; } .legend .key.fc-won { background: #12b76a; }
        table.forecast th { width: auto; white-space: nowrap; } table.forecast td { white-space: nowrap; } table.forecast td.num { text-align: right; }
        table.requests .num { text-align: right; white-space: nowrap; }
        p.download { margin: 4px 0 8px; font-size: 13px; }
        .funnel.s4 { fill: #175cd3; } .funnel.s5 { fill: #1849a9; } .funnel.s6 { fill: #12b76a; } .funnel.s7 { fill: #f97066; }
        button { white-space: nowrap; font: inherit; padding: 3px 10px; border: 1px solid #b8c2cc; background: #fff; border-radius: 5px; cursor: pointer; }
        button:hover { border-color: var(--accent); }
        ul.agenda form.inline button { padding: 0 8px; font-size: 12px; margin-left: 6px; line-height: 1.5; }
        input, select { font: inherit; padding: 3px 6px; border: 1px solid #b8c2cc; border-radius: 5px; }
        /* A phone: the stages one under another, each the screen's width, instead of a board
           to scroll sideways with its second column cut off (a card moves by its own select). */
        nav.stages { display: none; }
        @media (max-width: 600px) {
          main { padding: 10px; }
          nav.stages { display: flex; flex-wrap: wrap; gap: 6px; margin-bottom: 10px; }
          nav.stages a { background: #eaeef2; border-radius: 12px; padding: 2px 10px; color: var(--ink); text-decoration: none; white-space: nowrap; }
          .board { flex-direction: column; align-items: stretch; overflow-x: visible; }
          .column { flex: none; min-height: 0; }
          .column .card { cursor: default; }
          /* Requests as cards: the deal, what it asks, who and where it stands, then the note and
             the two buttons on a line of their own, all within the screen. */
          table.requests, table.requests tbody, table.requests tr, table.requests td { display: block; width: auto; }
          table.requests tr:first-child { display: none; }
          table.requests tr { border-top: 1px solid var(--line); padding: 8px 10px; }
          table.requests td { border: 0; padding: 2px 0; }
          table.requests td:first-child a { font-weight: 600; }
          table.requests td[data-label]::before { content: attr(data-label); color: var(--muted); }
          table.requests td:empty { display: none; }
          table.requests td.num { text-align: left; }
          table.requests form.inline { flex-wrap: wrap; margin-top: 4px; }
          table.requests form.inline input[name=note] { flex: 1 1 100%; }
          /* Charts drawn for a phone's width (their words at the page's size), and the forecast's
             rows as cards: the month and owner, then each figure under its name. */
          .chart.broad { display: none; } .chart.narrow { display: block; }
          table.forecast, table.forecast tbody, table.forecast tr, table.forecast td { display: block; width: auto; }
          table.forecast tr:first-child { display: none; }
          table.forecast tr { border-top: 1px solid var(--line); padding: 8px 10px; }
          table.forecast td { border: 0; padding: 1px 0; white-space: normal; }
          table.forecast td.month, table.forecast td.owner { display: inline; font-weight: 600; margin-right: 8px; }
          table.forecast td.num { text-align: left; display: flex; gap: 8px; }
          table.forecast td.none { display: none; }
          table.forecast td[data-label]::before { content: attr(data-label); color: var(--muted); min-width: 5em; }
        }
        """

    /// Drag a card onto a column: the card's own move form is submitted with that stage (the
    /// same POST a click on Move makes). And a page reloads after a sync changed the replica.
    static let js = """
        (function () {
          // A stage move's reason box, only for the moves that take one (their options say so).
          document.querySelectorAll('form.stage').forEach(function (form) {
            var select = form.querySelector('select[name=stage]'), reason = form.querySelector('label.reason');
            if (!select || !reason) return;
            var shown = function () { var o = select.options[select.selectedIndex]; reason.hidden = !(o && o.hasAttribute('data-reason')); };
            select.addEventListener('change', shown);
            shown();
          });
          var dragged = null;
          document.querySelectorAll('.card').forEach(function (card) {
            card.addEventListener('dragstart', function (e) { dragged = card; e.dataTransfer.setData('text/plain', card.dataset.id); });
          });
          document.querySelectorAll('.column').forEach(function (col) {
            col.addEventListener('dragover', function (e) { e.preventDefault(); col.classList.add('drop'); });
            col.addEventListener('dragleave', function () { col.classList.remove('drop'); });
            col.addEventListener('drop', function (e) {
              e.preventDefault(); col.classList.remove('drop');
              if (!dragged) return;
              var form = dragged.querySelector('form.move');
              if (!form) return;
              form.querySelector('select').value = col.dataset.stage;
              form.submit();
            });
          });
          var seen = document.body.dataset.generation;
          setInterval(function () {
            fetch('/status.json', { credentials: 'same-origin' }).then(function (r) { return r.json(); }).then(function (s) {
              var p = document.getElementById('pending'); if (p) p.textContent = s.pending;
              if (String(s.generation) !== seen && !document.querySelector('input:focus, select:focus')) location.reload();
            }).catch(function () {});
          }, 15000);
        })();
        """
}
