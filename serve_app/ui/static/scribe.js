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

// The microphone, recorded in the browser and sent straight to the API as the API asks:
// one self-contained 16-bit WAV per chunk, PUT .../audio/{seq} with seq from 0, every failed
// attempt retried with the same bytes.  Nothing is dropped while the service is slow: chunks
// wait in this queue (Gradio's own microphone stream drops pieces while a handler runs).
(() => {
  if (window.scribeRecorder) return;
  const TOKEN_KEY = 'scribeToken';
  const rec = window.scribeRecorder = {
    state: 'idle', sid: null, seq: 0, queue: [], acked: 0, failed: 0, failures: {}, elapsed: 0,
    chunkS: 4, rate: 48000, pieces: [], frames: 0, captured: 0, pumping: false, started: 0, ctx: null, stream: null,
  };
  const $ = sel => document.querySelector(sel);
  const TAP = `class Tap extends AudioWorkletProcessor {
    constructor() { super(); this.buf = []; this.n = 0;
      this.port.onmessage = () => { this.send(); this.port.postMessage('flushed'); }; }
    send() { if (!this.n) return; const out = new Float32Array(this.n); let at = 0;
      for (const b of this.buf) { out.set(b, at); at += b.length; } this.buf = []; this.n = 0; this.port.postMessage(out); }
    process(inputs) { const ch = inputs[0] && inputs[0][0];
      if (ch) { this.buf.push(ch.slice(0)); this.n += ch.length; if (this.n >= 4096) this.send(); } return true; }
  }
  registerProcessor('scribe-tap', Tap);`;
  const token = () => sessionStorage.getItem(TOKEN_KEY);
  rec.remember = t => { if (t) sessionStorage.setItem(TOKEN_KEY, t); return t; };
  rec.forget = () => sessionStorage.removeItem(TOKEN_KEY);

  function wav(samples, rate) {
    const out = new DataView(new ArrayBuffer(44 + samples.length * 2));
    const text = (o, s) => { for (let i = 0; i < s.length; i++) out.setUint8(o + i, s.charCodeAt(i)); };
    text(0, 'RIFF'); out.setUint32(4, 36 + samples.length * 2, true); text(8, 'WAVE'); text(12, 'fmt ');
    out.setUint32(16, 16, true); out.setUint16(20, 1, true); out.setUint16(22, 1, true);
    out.setUint32(24, rate, true); out.setUint32(28, rate * 2, true); out.setUint16(32, 2, true);
    out.setUint16(34, 16, true); text(36, 'data'); out.setUint32(40, samples.length * 2, true);
    for (let i = 0; i < samples.length; i++) {
      const v = Math.max(-1, Math.min(1, samples[i]));
      out.setInt16(44 + i * 2, v < 0 ? v * 0x8000 : v * 0x7fff, true);
    }
    return new Blob([out.buffer], {type: 'audio/wav'});
  }

  function cut(flush) {
    const size = Math.round(rec.chunkS * rec.rate);
    if (!rec.frames || (rec.frames < size && !flush)) return;
    const all = new Float32Array(rec.frames);
    let at = 0;
    for (const p of rec.pieces) { all.set(p, at); at += p.length; }
    let start = 0;
    while (all.length - start >= size) { enqueue(all.subarray(start, start + size)); start += size; }
    if (flush && all.length - start >= 0.2 * rec.rate) { enqueue(all.subarray(start)); start = all.length; }
    const rest = all.slice(start);
    rec.pieces = rest.length ? [rest] : [];
    rec.frames = rest.length;
  }

  function enqueue(samples) {
    rec.queue.push({seq: rec.seq++, body: wav(samples, rec.rate), attempts: 0});
    pump();
  }

  async function pump() {
    if (rec.pumping) return;
    rec.pumping = true;
    try {
      while (rec.queue.length) {
        const item = rec.queue[0];
        let answer = null;
        try {
          answer = await fetch(`${location.origin}/v1/sessions/${rec.sid}/audio/${item.seq}`, {
            method: 'PUT', body: item.body, headers: {'Authorization': `Bearer ${token()}`, 'Content-Type': 'audio/wav'}});
        } catch (e) { answer = null; }
        if (answer && answer.ok) { rec.queue.shift(); rec.acked++; delete rec.failures[item.seq]; show(); continue; }
        if (answer && [400, 401, 404, 409, 413, 415, 422].includes(answer.status)) {
          let code = String(answer.status);
          try { code = (await answer.json()).error.code; } catch (e) { /* keep the status */ }
          rec.queue.shift(); rec.failed++; rec.failures[item.seq] = code; show(); continue;
        }
        item.attempts++;  // busy (503), restarting or unreachable: the same bytes again, later
        rec.failures[item.seq] = answer ? `busy (${answer.status})` : 'unreachable';
        show();
        await new Promise(r => setTimeout(r, Math.min(8000, 250 * 2 ** Math.min(item.attempts, 5))));
      }
    } finally { rec.pumping = false; show(); }
  }

  function clock(s) { s = Math.floor(s); return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`; }
  function show() {
    const panel = $('#rec-state');
    if (!panel) return;
    const live = rec.state === 'recording';
    const seconds = rec.elapsed + (live ? (Date.now() - rec.started) / 1000 : 0);
    const retrying = rec.queue.length && rec.queue[0].attempts ? ` (retrying: ${rec.failures[rec.queue[0].seq]})` : '';
    panel.textContent = `${live ? '● Recording' : rec.state === 'paused' ? 'Paused' : 'Not recording'} ` +
      `${clock(seconds)} · chunks: ${rec.acked} acknowledged, ${rec.queue.length} pending${retrying}, ` +
      `${rec.failed} failed`;
    panel.dataset.state = rec.state;
    panel.dataset.acked = rec.acked; panel.dataset.pending = rec.queue.length; panel.dataset.failed = rec.failed;
    const start = $('#rec-start'), stop = $('#rec-stop');
    if (start) start.disabled = live;
    if (stop) stop.disabled = !live;
  }
  setInterval(() => { if (rec.state === 'recording') show(); }, 1000);

  rec.start = async (sid, chunkS) => {
    if (rec.state === 'recording') return;
    if (sid !== rec.sid) {
      // continue a session recorded before (another tab, a reload): seq goes on after the highest stored
      const answer = await fetch(`${location.origin}/v1/sessions/${sid}`, {headers: {'Authorization': `Bearer ${token()}`}});
      const chunks = answer.ok ? (await answer.json()).chunks : {received: 0, missing: []};
      Object.assign(rec, {sid, seq: chunks.received + chunks.missing.length, queue: [], acked: 0, failed: 0,
                          failures: {}, elapsed: 0, pieces: [], frames: 0, captured: 0});
    }
    rec.chunkS = chunkS || rec.chunkS;
    rec.stream = await navigator.mediaDevices.getUserMedia(
      {audio: {channelCount: 1, echoCancellation: false, noiseSuppression: false, autoGainControl: false}});
    rec.ctx = new AudioContext();
    rec.rate = rec.ctx.sampleRate;
    // An AudioWorklet runs on the audio thread: a busy page delays its messages but never drops
    // samples (a ScriptProcessor on the main thread lost 8 % of a recording while the page rendered).
    await rec.ctx.audioWorklet.addModule(URL.createObjectURL(new Blob([TAP], {type: 'application/javascript'})));
    rec.node = new AudioWorkletNode(rec.ctx, 'scribe-tap');
    rec.node.port.onmessage = ev => {
      if (ev.data === 'flushed') { rec.flushed && rec.flushed(); return; }
      rec.pieces.push(ev.data);
      rec.frames += ev.data.length;
      rec.captured += ev.data.length / rec.rate;
      cut(false);
    };
    rec.ctx.createMediaStreamSource(rec.stream).connect(rec.node);
    rec.node.connect(rec.ctx.destination);  // it outputs silence; connected so the graph pulls it
    rec.state = 'recording';
    rec.started = Date.now();
    show();
  };
  rec.stop = async () => {
    if (rec.state !== 'recording') return;
    rec.elapsed += (Date.now() - rec.started) / 1000;
    rec.stream.getTracks().forEach(t => t.stop());
    await new Promise(done => { rec.flushed = done; rec.node.port.postMessage('flush'); setTimeout(done, 2000); });
    await rec.ctx.close();
    rec.state = 'paused';
    cut(true);
    show();
  };
  rec.drain = async () => {
    await rec.stop();
    while (rec.queue.length) await new Promise(r => setTimeout(r, 200));
  };
  rec.forgetSession = () => { rec.state === 'recording' && rec.stop(); rec.sid = null; rec.state = 'idle'; show(); };
  rec.openSession = async () => {
    // a new session for the recording, created with the API; the page then opens and follows it
    const answer = await fetch(`${location.origin}/v1/sessions`, {method: 'POST', body: '{}',
      headers: {'Authorization': `Bearer ${token()}`, 'Content-Type': 'application/json'}});
    if (!answer.ok) throw new Error(`session: ${answer.status}`);
    return (await answer.json()).session_id;
  };
  function bridge(boxId, buttonId, value) {
    const box = document.querySelector(`#${boxId} textarea, #${boxId} input`);
    const setter = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(box), 'value').set;
    setter.call(box, value);
    box.dispatchEvent(new Event('input', {bubbles: true}));
    setTimeout(() => document.querySelector(`#${buttonId}`).click(), 50);
  }
  document.addEventListener('click', async ev => {
    if (ev.target.closest('#rec-start')) {
      const status = $('#status [data-session]');
      let sid = status && status.dataset.status === 'recording' ? status.dataset.session : null;
      try {
        if (!sid) { sid = await rec.openSession(); bridge('open-sid-box', 'open-sid-go', sid); }
        await rec.start(sid, parseFloat($('#rec-panel').dataset.chunkS));
      } catch (e) {
        $('#rec-state').textContent = `The microphone could not start (${e.message}). Check the browser's permission.`;
      }
    } else if (ev.target.closest('#rec-stop')) {
      await rec.stop();
    } else if (ev.target.closest('#rec-finish')) {
      await rec.drain();  // every recorded chunk acknowledged (or failed for good) before finishing
      $('#finish-go').click();
    }
  });
})();
