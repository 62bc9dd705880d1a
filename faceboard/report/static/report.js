// faceboard's leaderboard page: subset tabs, filter and sorting of the ranking; the gallery. No network, no eval;
// data from the page goes into the DOM as text only.
(function () {
  "use strict";
  const table = document.getElementById("ranking-table");
  if (table) {
    const body = table.tBodies[0];
    Array.from(body.rows).forEach((row, i) => { row.dataset.order = String(i); });  // ties keep the page's order
    const state = { subset: "all", filter: "", col: null, asc: true };
    const refresh = () => {
      for (const row of body.rows) {
        const shown = row.dataset.subset === state.subset &&
          row.dataset.method.toLowerCase().includes(state.filter);
        row.hidden = !shown;
      }
    };
    document.querySelectorAll(".tabs button[data-subset]").forEach((tab) => {
      tab.addEventListener("click", () => {
        state.subset = tab.dataset.subset;
        document.querySelectorAll(".tabs button").forEach((t) => t.setAttribute("aria-selected", String(t === tab)));
        refresh();
      });
    });
    const filter = document.getElementById("filter");
    filter.addEventListener("input", () => { state.filter = filter.value.trim().toLowerCase(); refresh(); });
    const headers = Array.from(table.tHead.rows[0].cells);
    headers.forEach((th, index) => {
      th.addEventListener("click", () => {
        const text = th.dataset.type === "text";
        state.asc = state.col === index ? !state.asc : (text || th.dataset.lower === "true");
        state.col = index;
        headers.forEach((h) => h.classList.remove("sorted-asc", "sorted-desc"));
        th.classList.add(state.asc ? "sorted-asc" : "sorted-desc");
        const key = (row) => row.cells[index].dataset.v;
        const compare = (a, b) => {
          const group = Number(a.classList.contains("unranked")) - Number(b.classList.contains("unranked"));
          if (group) return group;  // ranked methods stay above the others
          const x = key(a), y = key(b);
          let order;
          if (text) order = state.asc ? x.localeCompare(y) : y.localeCompare(x);
          else if (x === "" || y === "") order = (x === "") - (y === "");  // no value: last
          else order = state.asc ? Number(x) - Number(y) : Number(y) - Number(x);
          return order || Number(a.dataset.order) - Number(b.dataset.order);
        };
        Array.from(body.rows).sort(compare).forEach((row) => body.appendChild(row));
      });
    });
  }

  const source = document.getElementById("gallery-data");
  if (source) {
    const data = JSON.parse(source.textContent);
    const select = document.getElementById("gallery-image");
    const view = document.getElementById("gallery-view");
    const el = (tag, text, cls) => {
      const node = document.createElement(tag);
      if (text !== undefined) node.textContent = text;
      if (cls) node.className = cls;
      return node;
    };
    const image = (uri, cls, alt) => {
      const img = el("img", undefined, cls);
      if (typeof uri === "string" && uri.startsWith("data:image/")) img.src = uri;
      img.alt = alt;
      return img;
    };
    const fmt = (v, digits) => (v === null || v === undefined ? "–" : Number(v).toFixed(digits));
    data.images.forEach((key, i) => select.appendChild(new Option(key, String(i))));
    const show = () => {
      const key = data.images[Number(select.value)];
      const lq = (data.thumbs[data.input] || {})[key];
      view.replaceChildren();
      const input = el("figure");
      input.appendChild(lq ? image(lq, "input", key + ": LQ input") : el("div", "no input", "missing"));
      input.appendChild(el("figcaption", "LQ input"));
      view.appendChild(input);
      for (const method of data.methods) {
        const out = (data.thumbs[method] || {})[key];
        const fig = el("figure");
        fig.dataset.method = method;
        if (out && lq) {
          const box = el("div", undefined, "compare");
          box.style.setProperty("--pos", "50%");
          box.appendChild(image(out, "after", key + ": " + method));
          box.appendChild(image(lq, "before", key + ": LQ input"));
          const slider = el("input");
          slider.type = "range"; slider.min = "0"; slider.max = "100"; slider.value = "50";
          slider.setAttribute("aria-label", method + ": input / output");
          slider.addEventListener("input", () => box.style.setProperty("--pos", slider.value + "%"));
          box.appendChild(slider);
          fig.appendChild(box);
        } else {
          fig.appendChild(out ? image(out, "after", key + ": " + method) : el("div", "no output", "missing"));
        }
        fig.appendChild(el("figcaption", method));
        const s = (data.scores[key] || {})[method];
        const rows = el("table");
        if (s) {
          const add = (label, value) => {
            const tr = el("tr"); tr.appendChild(el("th", label, "l")); tr.appendChild(el("td", value)); rows.appendChild(tr);
          };
          add("status", s.status + (s.error ? ": " + s.error : ""));
          add("ID sim", fmt(s.id_sim, 4) + (s.id_pass === false ? " (fails)" : ""));
          for (const m of data.metrics) add(m.name + " " + m.arrow, fmt(s[m.name], 4));
          if (s.charged) add("charged", s.charged);
        }
        fig.appendChild(rows);
        view.appendChild(fig);
      }
    };
    const step = (by) => {
      const n = data.images.length;
      select.value = String((Number(select.value) + by + n) % n);
      show();
    };
    select.addEventListener("change", show);
    document.getElementById("gallery-prev").addEventListener("click", () => step(-1));
    document.getElementById("gallery-next").addEventListener("click", () => step(1));
    if (data.images.length) show();
  }
})();
