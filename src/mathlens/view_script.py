"""The styles and the plain JavaScript ``mathlens view`` inlines into its page: a sample browser
with filters, the side-by-side table of two runs and the lab grids, all drawn from the JSON in
``<script id="mathlens-data">``. Hand-written, no framework, so the page needs nothing but a
browser; kept in a module of its own so that ``view_page`` stays about the HTML.

The verdict filter works at the sample level: a problem is listed when any of its samples has
the chosen verdict, and when opened its other samples are shown dimmed."""

STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1240px;padding:12px 20px;
color:#222}
h1{font-size:20px}h2{font-size:17px;border-bottom:1px solid #ddd;padding-bottom:4px;margin-top:28px}
h3{font-size:15px;margin:18px 0 6px}h4{margin:6px 0}
.kind{font-weight:normal;color:#777;font-size:13px}.path,.muted{color:#777}
.note{color:#8a5a00;background:#fff6e0;padding:2px 6px;margin:2px 0}
table.metrics{border-collapse:collapse;font-size:13px;margin:4px 0}
table.metrics th,table.metrics td{border:1px solid #e3e3e3;padding:3px 7px;text-align:right;white-space:nowrap}
table.metrics th{background:#f6f6f6}table.metrics tbody th{text-align:left}
.ci{color:#888;font-size:11px}details>summary{cursor:pointer;color:#555}
.plots{display:flex;flex-wrap:wrap;gap:12px;margin-top:10px}figure{margin:0}
figure img{max-width:580px;max-height:420px;border:1px solid #eee}figcaption{font-size:12px;color:#777}
.curves{display:flex;flex-wrap:wrap;gap:14px}.curveset{border:1px solid #eee;padding:4px}
.cname{font-size:12px;color:#555}
svg.curve polyline{fill:none;stroke:#1f6fb4;stroke-width:1.3}svg.curve .frame{fill:none;stroke:#ddd}
svg.curve text{font-size:10px;fill:#666}svg.curve .y,svg.curve .end{text-anchor:end}
svg.curve .t{font-size:11px;fill:#333}
.controls{display:flex;gap:10px;flex-wrap:wrap;align-items:center;margin:6px 0}
.controls input[type=search]{min-width:260px}
.count{color:#444;margin:4px 0}
.problem{border:1px solid #e4e4e4;border-radius:4px;margin:3px 0}
.problem .head{display:flex;gap:8px;align-items:baseline;padding:4px 8px;cursor:pointer}
.problem .head:hover{background:#f7f9fc}.problem.open .head{background:#eef3fa}
.pid{font-family:monospace;font-weight:600}.tag{background:#eee;border-radius:3px;padding:0 5px;font-size:12px}
.rate{font-size:12px;color:#555;white-space:nowrap}
.q{color:#333;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;flex:1}
.body{padding:6px 10px;border-top:1px solid #eee}
pre{white-space:pre-wrap;word-break:break-word;margin:2px 0;font:12.5px/1.35 ui-monospace,Menlo,Consolas,monospace;
background:#fafafa;padding:5px 7px;border-radius:3px}
.label{font-size:11px;color:#888;text-transform:uppercase;letter-spacing:.04em;margin-top:4px}
.sample{border-left:3px solid #ccc;margin:8px 0;padding-left:8px}.sample.dim{opacity:.45}
.facts{display:flex;gap:12px;flex-wrap:wrap;font-size:12.5px;align-items:baseline}
.badge{border-radius:3px;padding:0 6px;color:#fff;font-size:12px}.badge.right{background:#2e8b57}
.badge.wrong{background:#d0342c}.badge.none{background:#888}.badge.ungraded{background:#b08900}
.warn{color:#c05000;font-weight:600}pre.code{background:#f2f5fb}pre.out{background:#f3f8f0}
table.cmp{border-collapse:collapse;font-size:13px;width:100%}
table.cmp td,table.cmp th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left}
tr.cmprow{cursor:pointer}tr.cmprow:hover{background:#f7f9fc}
.up{color:#2e8b57;font-weight:600}.down{color:#d0342c;font-weight:600}
.sbs{display:grid;grid-template-columns:1fr 1fr;gap:12px}.sbs>div{min-width:0}
.grid{margin:8px 0 18px}.gridwrap{display:flex;gap:16px;align-items:flex-start;flex-wrap:wrap}
.board{display:grid;border:1px solid #ccc;width:max-content}
.cell.r{background:#b9e3b5}.cell.w{background:#f5b7b1}.cell.u{background:#ddd}
.cell.t.r{background:#1f8a4c}.cell.t.w{background:#c0392b}
.cell:hover,.cell.pin{outline:2px solid #000;outline-offset:-1px;position:relative;z-index:1}
.cellinfo{min-width:280px;max-width:520px}.axis{font-size:12px;color:#666}
.legend{display:flex;gap:12px;font-size:12px;align-items:center;margin:4px 0;flex-wrap:wrap}
.sw{display:inline-block;width:11px;height:11px;vertical-align:middle;margin-right:3px}
nav a{margin-right:12px}.wide{overflow-x:auto;max-width:100%}button.more{margin:6px 0}
"""

SCRIPT = r"""
"use strict";
(() => {
const DATA = JSON.parse(document.getElementById("mathlens-data").textContent);
const PAGE = 100;
const SAYS = {right: "right", wrong: "wrong", none: "no answer", ungraded: "ungraded"};

function h(tag, props, ...kids) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null) continue;
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of kids.flat()) if (c != null && c !== false) e.append(c instanceof Node ? c : String(c));
  return e;
}
const pct = x => x == null ? "—" : (100 * x).toFixed(1) + "%";
const byValue = (x, y) => typeof x === "number" && typeof y === "number" ? x - y
  : String(x).localeCompare(String(y), undefined, {numeric: true});
const uniq = xs => [...new Set(xs.filter(x => x != null))].sort(byValue);
function select(cls, options, value, onchange) {
  const s = h("select", {class: cls}, options.map(([v, t]) => h("option", {value: v}, t)));
  s.value = value;
  s.addEventListener("change", () => onchange(s.value));
  return s;
}
function block(label, text, cls) {
  if (text == null || text === "") return null;
  return h("div", {class: "field " + (cls || "")}, h("div", {class: "label"}, label), h("pre", {}, text));
}

// ------------------------------------------------------------------ one problem and its samples
function sampleView(s, i, dim) {
  const shown = v => v == null ? "—" : v;
  const facts = h("div", {class: "facts"},
    h("span", {class: "muted"}, "#" + (i + 1)),
    h("span", {class: "badge " + s.verdict}, SAYS[s.verdict] || s.verdict),
    h("span", {}, "answer: ", h("b", {}, shown(s.pred))),
    s.how ? h("span", {class: "muted"}, "by " + s.how) : null,
    h("span", {class: s.finish === "length" ? "warn" : "muted"}, "finish: " + shown(s.finish)),
    h("span", {class: "muted"}, "tokens: " + shown(s.tokens)),
    s.reward == null ? null : h("span", {class: "muted"}, "reward: " + Number(s.reward).toFixed(3)));
  const tools = (s.tools || []).map((t, j) => h("div", {class: "tool"},
    h("div", {class: "label"}, "tool call " + (j + 1)), h("pre", {class: "code"}, t.code),
    h("div", {class: "label"}, "output"), h("pre", {class: "out"}, t.output)));
  return h("div", {class: "sample " + s.verdict + (dim ? " dim" : "")}, facts,
    h("pre", {class: "completion"}, s.completion), tools);
}

function problemBody(p, keep) {
  return h("div", {class: "body"},
    p.prompt ? h("details", {class: "prompt"}, h("summary", {}, `prompt (${p.prompt.length} characters)`),
      h("pre", {}, p.prompt)) : h("div", {class: "muted"}, "prompt: not recorded in this run"),
    block("question", p.question),
    block("gold", p.gold == null || p.gold === "" ? "—" : String(p.gold), "gold"),
    h("div", {class: "samples"}, p.samples.map((s, i) => sampleView(s, i, keep && !keep(s)))));
}

function problemRow(p, keep) {
  const right = p.samples.filter(s => s.verdict === "right").length;
  const row = h("div", {class: "problem", "data-key": p.key});
  const head = h("div", {class: "head"},
    h("span", {class: "pid"}, p.id), h("span", {class: "tag"}, p.benchmark),
    p.level == null ? null : h("span", {class: "tag"}, "level " + p.level),
    h("span", {class: "rate"}, `${right}/${p.samples.length} right`),
    h("span", {class: "q"}, p.question.slice(0, 160)));
  head.addEventListener("click", () => {
    const body = row.querySelector(".body");
    if (body) body.remove(); else row.append(problemBody(p, keep));
    row.classList.toggle("open", !body);
  });
  row.append(head);
  return row;
}

function searchText(p) {
  if (p._text == null) p._text = [p.id, p.question, p.gold, p.prompt, ...p.samples.flatMap(s => [s.completion, s.pred])]
    .filter(x => x != null).join("\n").toLowerCase();
  return p._text;
}

// ------------------------------------------------------------------ the sample browser
function browser(root, run) {
  const st = {set: 0, verdict: "all", bench: "all", level: "all", q: "", limit: PAGE};
  const controls = h("div", {class: "controls"}), count = h("div", {class: "count"}), list = h("div", {class: "list"});
  const more = h("button", {class: "more"}, "show more");
  more.addEventListener("click", () => { st.limit += PAGE; draw(); });
  root.append(controls, count, list, more);
  const problems = () => run.sets[st.set].problems;
  const again = () => { st.limit = PAGE; draw(); };
  function build() {
    const ps = problems(), benches = uniq(ps.map(p => p.benchmark)), levels = uniq(ps.map(p => p.level));
    controls.replaceChildren();
    if (run.sets.length > 1) controls.append(h("label", {}, "round ", select("f-set",
      run.sets.map((s, i) => [i, s.label]), st.set,
      v => { st.set = +v; st.bench = st.level = "all"; build(); again(); })));
    controls.append(h("label", {}, "verdict ", select("f-verdict",
      [["all", "all"], ["right", "right"], ["wrong", "wrong"], ["none", "no answer"], ["ungraded", "ungraded"]],
      st.verdict, v => { st.verdict = v; again(); })));
    if (benches.length > 1) controls.append(h("label", {}, "benchmark ", select("f-bench",
      [["all", "all"], ...benches.map(b => [b, b])], st.bench, v => { st.bench = v; again(); })));
    if (levels.length) controls.append(h("label", {}, "level ", select("f-level",
      [["all", "all"], ...levels.map(l => [l, l])], st.level, v => { st.level = v; again(); })));
    const search = h("input", {type: "search", class: "f-search", placeholder: "search question, gold, completions"});
    search.value = st.q;
    search.addEventListener("input", () => { st.q = search.value.trim().toLowerCase(); again(); });
    controls.append(search, h("span", {class: "muted"},
      "a problem is listed when any sample has the verdict; its other samples show dimmed"));
  }
  function shown(p, keep) {
    if (st.bench !== "all" && p.benchmark !== st.bench) return false;
    if (st.level !== "all" && p.level !== st.level) return false;
    if (keep && !p.samples.some(keep)) return false;
    return !st.q || searchText(p).includes(st.q);
  }
  function draw() {
    const keep = st.verdict === "all" ? null : s => s.verdict === st.verdict;
    const set = run.sets[st.set], all = problems(), hits = all.filter(p => shown(p, keep));
    count.textContent = `showing ${hits.length} of ${all.length} problems`
      + (set.total > all.length ? ` (the file has ${set.total}; the page holds the first ${all.length})` : "")
      + (hits.length > st.limit ? `; the first ${st.limit} listed` : "");
    list.replaceChildren(...hits.slice(0, st.limit).map(p => problemRow(p, keep)));
    more.hidden = hits.length <= st.limit;
  }
  build();
  draw();
}

// ------------------------------------------------------------------ two runs side by side
function compare(root, cmp) {
  const A = DATA.runs[cmp.a], B = DATA.runs[cmp.b];
  const index = run => new Map(run.sets[0].problems.map(p => [p.key, p]));
  const pa = index(A), pb = index(B);
  const differ = cmp.rows.filter(r => r[1] !== r[2]).length;
  let limit = PAGE, onlyDiffer = false;
  const box = h("input", {type: "checkbox", class: "f-differ"});
  box.addEventListener("change", () => { onlyDiffer = box.checked; limit = PAGE; draw(); });
  const info = h("div", {class: "count"}), table = h("table", {class: "cmp"});
  const more = h("button", {class: "more"}, "show more");
  more.addEventListener("click", () => { limit += PAGE; draw(); });
  root.append(h("div", {class: "controls"}, h("label", {}, box, " only problems whose pass rate differs")),
    info, table, more);
  function side(name, p) {
    return h("div", {}, h("h4", {}, name), p ? problemBody(p, null) : h("div", {class: "muted"}, "not in this run"));
  }
  function row(r) {
    const [key, a, b] = r, p = pa.get(key) || pb.get(key), d = a == null || b == null ? null : b - a;
    const tr = h("tr", {class: "cmprow", "data-key": key},
      h("td", {class: "pid"}, p.id), h("td", {}, p.benchmark), h("td", {}, p.level == null ? "" : p.level),
      h("td", {}, pct(a)), h("td", {}, pct(b)),
      h("td", {class: d > 0 ? "up" : d < 0 ? "down" : ""},
        d == null ? "—" : (d > 0 ? "+" : "") + Math.round(100 * d)),
      h("td", {class: "q"}, p.question.slice(0, 100)));
    tr.addEventListener("click", () => {
      const next = tr.nextElementSibling;
      if (next && next.classList.contains("detail")) { next.remove(); return; }
      tr.after(h("tr", {class: "detail"}, h("td", {colspan: 7},
        h("div", {class: "sbs"}, side("A: " + A.name, pa.get(key)), side("B: " + B.name, pb.get(key))))));
    });
    return tr;
  }
  function draw() {
    const rows = onlyDiffer ? cmp.rows.filter(r => r[1] !== r[2]) : cmp.rows;
    info.textContent = `${cmp.rows.length} problems in both runs, ${differ} with different pass rates `
      + `(largest change first); showing ${Math.min(limit, rows.length)} of ${rows.length}`;
    const head = h("tr", {}, ["problem", "benchmark", "level", "A pass", "B pass", "B − A (points)", "question"]
      .map(t => h("th", {}, t)));
    table.replaceChildren(h("thead", {}, head), h("tbody", {}, rows.slice(0, limit).map(row)));
    more.hidden = rows.length <= limit;
  }
  draw();
}

// ------------------------------------------------------------------ a lab grid
function grid(g) {
  const as = uniq(g.a), bs = uniq(g.b);
  const ai = new Map(as.map((v, i) => [v, i])), bi = new Map(bs.map((v, i) => [v, i]));
  // operands drawn at random (a length test) fill little of their square: one cell each, in file order
  const sparse = g.a.length < 0.5 * as.length * bs.length;
  const size = sparse ? 12 : Math.max(3, Math.min(24, Math.floor(560 / Math.max(as.length, bs.length))));
  const parts = [], tally = {r: 0, w: 0, tr: 0, tw: 0};
  for (let i = 0; i < g.a.length; i++) {
    const v = g.ok[i] === true ? "r" : g.ok[i] === false ? "w" : "u";
    tally[(g.test[i] ? "t" : "") + v] = (tally[(g.test[i] ? "t" : "") + v] || 0) + 1;
    const at = sparse ? "" : ` style="grid-area:${bs.length - bi.get(g.b[i])}/${ai.get(g.a[i]) + 1}"`;
    parts.push(`<div class="cell ${v}${g.test[i] ? " t" : ""}" data-i="${i}"${at}></div>`);
  }
  const board = h("div", {class: "board"});  // as heatmap.png draws it: a to the right, b upwards
  board.style.gridTemplateColumns = `repeat(${sparse ? Math.min(g.a.length, 40) : as.length}, ${size}px)`;
  board.style.gridAutoRows = `${size}px`;
  if (!sparse) board.style.gridTemplateRows = `repeat(${bs.length}, ${size}px)`;
  board.innerHTML = parts.join("");
  const info = h("div", {class: "cellinfo muted"}, "hover over a cell, or click one to pin it");
  let pinned = null;
  function show(i) {
    const ok = g.ok[i];
    info.className = "cellinfo";
    info.replaceChildren(h("div", {}, h("b", {}, `a = ${g.a[i]}, b = ${g.b[i]}`), " ",
      h("span", {class: "badge " + (ok === true ? "right" : ok === false ? "wrong" : "ungraded")},
        ok === true ? "right" : ok === false ? "wrong" : "ungraded"), " ",
      h("span", {class: "tag"}, g.test[i] == null ? "no split recorded" : g.test[i] ? "test (held out)" : "train")),
      block("prompt", g.prompt[i]), block("target", g.target[i]), block("completion", g.completion[i]),
      block("extracted answer", g.pred[i]));
  }
  board.addEventListener("mouseover", e => {
    const i = e.target.dataset.i;
    if (i != null && pinned == null) show(+i);
  });
  board.addEventListener("click", e => {
    const i = e.target.dataset.i;
    if (i == null) return;
    board.querySelector(".pin")?.classList.remove("pin");
    if (pinned === +i) { pinned = null; return; }
    pinned = +i;
    e.target.classList.add("pin");
    show(pinned);
  });
  const share = (r, w) => r + w ? `${pct(r / (r + w))} of ${r + w}` : "none";
  const sw = (cls, text) => h("span", {}, h("span", {class: "sw cell " + cls}), text);
  const legend = g.test.some(t => t != null)
    ? [sw("r", "train, right"), sw("w", "train, wrong"), sw("t r", "test, right"), sw("t w", "test, wrong"),
      h("span", {}, `train right: ${share(tally.r, tally.w)}; test right: ${share(tally.tr, tally.tw)}`)]
    : [sw("r", "right"), sw("w", "wrong"), h("span", {}, `right: ${share(tally.r, tally.w)}`)];
  return h("div", {class: "grid"}, h("h4", {}, g.name), h("div", {class: "legend"}, legend),
    h("div", {class: "axis"}, sparse ? "the operands do not fill a square: one cell per prediction, in file order"
      : `a = ${as[0]} … ${as[as.length - 1]} left to right; b = ${bs[0]} … ${bs[bs.length - 1]} bottom to top `
      + "(as in heatmap.png)"),
    h("div", {class: "gridwrap"}, board, info));
}

document.querySelectorAll(".browser").forEach(el => browser(el, DATA.runs[+el.dataset.run]));
document.querySelectorAll(".grids").forEach(el => DATA.runs[+el.dataset.run].grids.forEach(g => el.append(grid(g))));
if (DATA.compare) compare(document.querySelector(".compare"), DATA.compare);
})();
"""
