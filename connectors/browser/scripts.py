"""JavaScript the browser connector evaluates in pages (plain strings: no Playwright here)."""

# Describes up to `max` elements as `<tag id="x"> role "name"` for an ambiguity error.
# Input values are left out: a password field's value must not reach a message.
CANDIDATES_JS = """(els, max) => {
  const implicit = (e) => {
    const t = e.tagName.toLowerCase(), type = (e.getAttribute('type') || '').toLowerCase();
    if (t === 'a' && e.hasAttribute('href')) return 'link';
    if (t === 'button') return 'button';
    if (t === 'input') {
      if (['button', 'submit', 'reset', 'image'].includes(type)) return 'button';
      if (type === 'checkbox' || type === 'radio') return type;
      return 'textbox';
    }
    const map = {select: 'combobox', textarea: 'textbox', table: 'table', tr: 'row', td: 'cell',
      th: 'columnheader', img: 'img', li: 'listitem', ul: 'list', ol: 'list', nav: 'navigation',
      form: 'form', dialog: 'dialog', option: 'option', h1: 'heading', h2: 'heading',
      h3: 'heading', h4: 'heading', h5: 'heading', h6: 'heading'};
    return map[t] || '';
  };
  const nameOf = (e) => {
    let n = e.getAttribute('aria-label') || '';
    if (!n && e.labels && e.labels.length) n = e.labels[0].innerText;
    if (!n) n = e.innerText || '';
    if (!n && e.type !== 'password' && e.tagName === 'INPUT' && ['button', 'submit', 'reset']
        .includes(e.type)) n = e.value;
    if (!n) n = e.getAttribute('title') || e.getAttribute('placeholder') || '';
    n = n.replace(/\\s+/g, ' ').trim();
    return n.length > 60 ? n.slice(0, 57) + '...' : n;
  };
  return els.slice(0, max).map((e) => {
    const id = e.id ? ` id="${e.id}"` : '';
    const role = e.getAttribute('role') || implicit(e);
    const name = nameOf(e);
    return `<${e.tagName.toLowerCase()}${id}>` + (role ? ` ${role}` : '') +
      (name ? ` "${name}"` : '');
  });
}"""

# An HTML table as a list of rows keyed by header cell (thead, else the first row's cells).
TABLE_JS = """(table) => {
  const clean = (c) => c.innerText.replace(/\\s+/g, ' ').trim();
  let rows = Array.from(table.rows);
  let headerRow = table.tHead && table.tHead.rows.length ? table.tHead.rows[0] : rows[0];
  if (!headerRow) return [];
  const headers = Array.from(headerRow.cells).map((c, i) => clean(c) || `column_${i + 1}`);
  rows = rows.filter((r) => r !== headerRow && !(table.tHead && table.tHead.contains(r)));
  return rows.map((r) => {
    const row = {};
    Array.from(r.cells).forEach((c, i) => { row[headers[i] || `column_${i + 1}`] = clean(c); });
    return row;
  });
}"""

#: Every labelled form field inside an element: label text -> value (hidden panels included).
#: A label names its field by ``for``, by ``aria-labelledby`` on the field, or by wrapping it.
FIELDS_JS = """(root) => {
  const out = {};
  const clean = (text) => (text || "").replace(/\\s*\\*\\s*$/, "").replace(/:\\s*$/, "").trim();
  const valueOf = (field) => field.tagName === "SELECT"
    ? (field.selectedOptions[0] ? field.selectedOptions[0].textContent.trim() : "")
    : field.value;
  root.querySelectorAll("input, select, textarea").forEach((field) => {
    if (field.type === "hidden" || field.type === "button" || field.type === "submit") return;
    let label = null;
    if (field.id) label = root.ownerDocument.querySelector(`label[for="${CSS.escape(field.id)}"]`);
    if (!label && field.getAttribute("aria-labelledby")) {
      label = root.ownerDocument.getElementById(field.getAttribute("aria-labelledby"));
    }
    if (!label) label = field.closest("label");
    const name = clean(label ? label.textContent : field.getAttribute("aria-label"));
    if (name && !(name in out)) out[name] = valueOf(field);
  });
  return out;
}"""
