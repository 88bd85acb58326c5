// The clinician page's behaviour in the browser: citation highlighting (item -> segments
// and segment -> items, by mouse or keyboard), one-click role corrections handed to the
// server through a hidden field, and timings of when content first appears (for bench/).
(() => {
  if (window.scribeUi) return;
  const ui = window.scribeUi = {selectedItem: null, selectedSeg: null,
                                seen: {segments: {}, notes: {}}, roleFixes: 0};

  function all(sel) { return Array.from(document.querySelectorAll(sel)); }
  function clear() {
    all('.note-item.selected, .note-item.cites-this, .seg.cited').forEach(
      el => el.classList.remove('selected', 'cites-this', 'cited'));
  }
  function applySelection() {
    clear();
    if (ui.selectedItem) {
      const item = document.querySelector(`.note-item[data-item="${CSS.escape(ui.selectedItem)}"]`);
      if (!item) return;
      item.classList.add('selected');
      (item.dataset.cites || '').split(' ').filter(Boolean).forEach(id => {
        const seg = document.getElementById('seg-' + id);
        if (seg) seg.classList.add('cited');
      });
    } else if (ui.selectedSeg) {
      const seg = document.getElementById('seg-' + ui.selectedSeg);
      if (seg) seg.classList.add('cited');
      all('.note-item').forEach(item => {
        if ((item.dataset.cites || '').split(' ').includes(ui.selectedSeg)) item.classList.add('cites-this');
      });
    }
  }
  ui.applySelection = applySelection;

  function selectItem(item) {
    ui.selectedSeg = null;
    ui.selectedItem = ui.selectedItem === item.dataset.item ? null : item.dataset.item;
    applySelection();
    const first = document.querySelector('.seg.cited');
    if (first) first.scrollIntoView({block: 'nearest'});
  }
  function selectSeg(seg) {
    ui.selectedItem = null;
    ui.selectedSeg = ui.selectedSeg === seg.dataset.seg ? null : seg.dataset.seg;
    applySelection();
  }
  function fixRole(button) {
    const box = document.querySelector('#role-fix-box textarea, #role-fix-box input');
    const go = document.querySelector('#role-fix-go');
    if (!box || !go) return;
    const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(box), 'value').set;
    setter.call(box, `${button.dataset.seg}:${button.dataset.role}:${++ui.roleFixes}`);
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(() => go.click(), 50);
  }

  document.addEventListener('click', ev => {
    const fix = ev.target.closest('.role-fix');
    if (fix) { ev.preventDefault(); fixRole(fix); return; }
    const item = ev.target.closest('.note-item');
    if (item) { selectItem(item); return; }
    const seg = ev.target.closest('.seg');
    if (seg) selectSeg(seg);
  });
  document.addEventListener('keydown', ev => {
    if (ev.key !== 'Enter' && ev.key !== ' ') return;
    const el = ev.target;
    if (!(el instanceof Element) || el.closest('.role-fix')) return;
    if (el.classList.contains('note-item')) { ev.preventDefault(); selectItem(el); }
    else if (el.classList.contains('seg')) { ev.preventDefault(); selectSeg(el); }
  });

  // First appearance of each segment and note version (Date.now(), ms), and the selection
  // kept across re-renders.
  function observe() {
    const now = Date.now();
    all('.seg[data-seg]').forEach(seg => {
      const key = seg.closest('.transcript').dataset.session + '/' + seg.dataset.seg;
      if (!(key in ui.seen.segments)) ui.seen.segments[key] = {t: now, end: parseFloat(seg.dataset.end),
                                                   ts: parseFloat(seg.dataset.eventTs) * 1000};
    });
    all('.note[data-version]').forEach(note => {
      const v = note.dataset.version;
      if (!(v in ui.seen.notes)) ui.seen.notes[v] = {t: now, ts: parseFloat(note.dataset.eventTs) * 1000};
    });
    if (ui.selectedItem || ui.selectedSeg) applySelection();
  }
  new MutationObserver(observe).observe(document.documentElement, {childList: true, subtree: true});
})();
