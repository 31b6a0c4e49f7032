/*
 * advocacyd live view. Loads the scorecard from GET /api/kpis, then reads
 * GET /api/stream with fetch() and a ReadableStream (EventSource cannot send
 * an Authorization header) and applies each KPI update as it arrives. The
 * amplification chart starts from GET /api/history and adds live points.
 * The viewer token stays in sessionStorage, so it is gone when the tab is.
 */
'use strict';

(function () {
  const TOKEN_KEY = 'advocacyd.token';
  const QUADRANTS = ['financial', 'customer', 'internal_process', 'learning_growth'];
  const HISTORY_KINDS = ['org', 'department', 'segment'];
  const MINUTE_MS = 60000;
  const HISTORY_SPAN_MS = 360 * MINUTE_MS;
  // Okabe-Ito colours, each with its own dash pattern, so colour is never the only cue.
  const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9'];
  const DASHES = [[], [8, 4], [2, 3], [10, 3, 2, 3], [4, 4], [1, 5]];

  const el = (id) => document.getElementById(id);
  const state = {
    token: '',
    kpis: [],              // catalog from /api/kpis, in config order
    figures: new Map(),    // scope -> Map(kpi id -> figure)
    kinds: new Map(),      // scope -> scope kind
    history: new Map(),    // kpi id -> [[ms, value|null], ...] of the amplification scope
    stream: null,          // AbortController of the open stream
    retryMs: 2000,
    retryTimer: null,
    chart: null,
  };

  /* ------------------------------------------------------------ requests */

  function headers() {
    return state.token ? { Authorization: 'Bearer ' + state.token } : {};
  }

  function setStatus(text) {
    el('status').textContent = text;
  }

  class HttpError extends Error {
    constructor(status) {
      super('HTTP ' + status);
      this.status = status;
    }
  }

  async function getJson(path) {
    const response = await fetch(path, { headers: headers(), cache: 'no-store' });
    if (!response.ok) throw new HttpError(response.status);
    return response.json();
  }

  function unauthorized(error) {
    return error instanceof HttpError && (error.status === 401 || error.status === 403);
  }

  /* ------------------------------------------------------------ index */

  // The scope's effective target, which /api/kpis sends per scope; the KPI's base target before.
  function targetOf(kpi, figure) {
    return figure && Number.isFinite(figure.target) ? figure.target : kpi.target;
  }

  // A benchmark range, when the KPI has one, wins over the target (README "Targets, index and small groups").
  function score(kpi, figure) {
    const value = figure.value;
    const range = kpi.benchmark;
    if (!Number.isFinite(value)) return NaN;
    const lower = kpi.better === 'lower';
    if (range && range.high > range.low) {
      const s = Math.min(Math.max((value - range.low) / (range.high - range.low), 0), 1);
      return lower ? 1 - s : s;
    }
    const target = targetOf(kpi, figure);
    if (!(target > 0)) return NaN;
    if (lower) return value <= target ? 1 : target / value;
    return Math.min(Math.max(value, 0) / target, 1);
  }

  // Weighted mean of the scores of the active KPIs with a figure (README "Live view").
  function indexOf(scope, quadrant) {
    const row = state.figures.get(scope);
    let weighted = 0;
    let weight = 0;
    if (!row) return NaN;
    for (const kpi of state.kpis) {
      const figure = row.get(kpi.id);
      if (kpi.status !== 'active' || !(kpi.weight > 0) || !figure || figure.suppressed) continue;
      if (quadrant && kpi.quadrant !== quadrant) continue;
      const s = score(kpi, figure);
      if (Number.isNaN(s)) continue;
      weighted += kpi.weight * s;
      weight += kpi.weight;
    }
    return weight > 0 ? weighted / weight : NaN;
  }

  function scopeSuppressed(scope) {
    const row = state.figures.get(scope);
    if (!row || row.size === 0) return false;
    for (const figure of row.values()) if (!figure.suppressed) return false;
    return true;
  }

  /* ------------------------------------------------------------ figures */

  function keepFigure(kpiId, entry) {
    if (!state.figures.has(entry.scope)) state.figures.set(entry.scope, new Map());
    state.figures.get(entry.scope).set(kpiId, {
      suppressed: entry.suppressed === true,
      value: entry.suppressed ? NaN : Number(entry.value),
      target: entry.suppressed ? NaN : Number(entry.target),
      computedAt: entry.computed_at,
    });
    state.kinds.set(entry.scope, entry.scope_kind);
  }

  function loadSnapshot(card) {
    state.kpis = card.kpis.filter((k) => k.status === 'active');
    state.figures.clear();
    for (const kpi of state.kpis) for (const entry of kpi.scopes) keepFigure(kpi.id, entry);
    fillScopes();
    renderScorecard();
  }

  function option(select, value) {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = value;
    select.appendChild(o);
  }

  // Adds the scopes that the selects do not list yet, keeping the selections.
  function fillScopes() {
    const scope = el('scope');
    const amplification = el('amplification-scope');
    const listed = new Set(Array.from(scope.options, (o) => o.value));
    const charted = new Set(Array.from(amplification.options, (o) => o.value));
    for (const [name, kind] of state.kinds) {
      if (!listed.has(name)) option(scope, name);
      if (HISTORY_KINDS.includes(kind) && !charted.has(name)) option(amplification, name);
    }
  }

  function formatNumber(value) {
    return Number.isFinite(value) ? value.toFixed(2) : 'no data';
  }

  function kpiItem(kpi, figure) {
    const item = document.createElement('li');
    const name = document.createElement('span');
    const value = document.createElement('span');
    const target = document.createElement('span');
    const stateText = document.createElement('span');
    let kpiState = 'suppressed';

    if (!figure || !figure.suppressed) {
      const target = targetOf(kpi, figure);
      const lower = kpi.better === 'lower';
      const met = figure && (lower ? figure.value <= target : figure.value >= target);
      kpiState = met ? 'ok' : (lower ? 'above' : 'below');
    }
    item.dataset.kpi = kpi.id;
    item.dataset.state = figure ? kpiState : 'below';
    name.className = 'kpi-name';
    name.textContent = kpi.name || kpi.id;
    value.className = 'value';
    target.className = 'target';
    target.textContent = formatNumber(targetOf(kpi, figure));
    stateText.className = 'state';
    if (!figure) {
      value.textContent = 'no data';
      stateText.textContent = 'no data';
    } else if (figure.suppressed) {
      value.textContent = 'suppressed';
      stateText.textContent = 'suppressed';
    } else {
      value.textContent = formatNumber(figure.value);
      stateText.textContent = kpiState === 'ok' ? 'on target' : kpiState + ' target';
    }

    const against = document.createElement('span');
    against.append('target ', target, ' · ', stateText);
    item.append(name, value, against);
    return item;
  }

  function renderScorecard() {
    const scope = el('scope').value;
    const row = state.figures.get(scope) || new Map();
    const index = indexOf(scope);

    for (const quadrant of QUADRANTS) {
      const list = document.querySelector('#quadrant-' + quadrant + ' .kpis');
      const items = state.kpis.filter((k) => k.quadrant === quadrant).map((k) => kpiItem(k, row.get(k.id)));
      if (items.length === 0) {
        const none = document.createElement('li');
        none.className = 'empty';
        none.textContent = 'No KPI in this quadrant';
        items.push(none);
      }
      list.replaceChildren(...items);
    }
    el('index').textContent = scopeSuppressed(scope) ? 'suppressed' : formatNumber(index);
  }

  /* ------------------------------------------------------------ chart */

  function customerKpis() {
    return state.kpis.filter((k) => k.quadrant === 'customer');
  }

  // Keeps at most one point a minute per KPI, like the daemon's history.
  function addPoint(points, at, value) {
    const last = points[points.length - 1];
    if (last && Math.floor(last[0] / MINUTE_MS) === Math.floor(at / MINUTE_MS) && at >= last[0]) {
      last[0] = at;
      last[1] = value;
    } else {
      points.push([at, value]);
    }
    while (points.length && points[0][0] <= at - HISTORY_SPAN_MS) points.shift();
  }

  function chartData() {
    const kpis = customerKpis();
    const times = new Set();
    for (const k of kpis) for (const [at] of state.history.get(k.id) || []) times.add(at);
    const xs = Array.from(times).sort((a, b) => a - b);
    const data = [xs.map((at) => at / 1000)];
    for (const k of kpis) {
      const byTime = new Map(state.history.get(k.id) || []);
      data.push(xs.map((at) => {
        const v = byTime.get(at);
        return v === null || v === undefined ? null : (100 * v) / k.target;
      }));
    }
    return data;
  }

  function chartWidth() {
    return Math.max(280, el('chart').clientWidth || 320);
  }

  function buildChart() {
    const kpis = customerKpis();
    if (state.chart) state.chart.destroy();
    state.chart = null;
    if (typeof uPlot !== 'function') return;
    const series = [{ label: 'time' }].concat(kpis.map((k, i) => ({
      label: (k.name || k.id) + ' (% of target)',
      stroke: PALETTE[i % PALETTE.length],
      dash: DASHES[i % DASHES.length],
      width: 2,
      spanGaps: false,
    })));
    state.chart = new uPlot({
      width: chartWidth(),
      height: 240,
      series: series,
      axes: [{}, { label: '% of target' }],
      scales: { y: { range: (u, min, max) => [0, Math.max(100, max || 0)] } },
    }, chartData(), el('chart'));
  }

  function refreshChart() {
    if (state.chart) state.chart.setData(chartData());
  }

  async function loadHistory() {
    const scope = el('amplification-scope').value;
    state.history.clear();
    if (scope) {
      await Promise.all(customerKpis().map(async (k) => {
        const query = '?kpi=' + encodeURIComponent(k.id) + '&scope=' + encodeURIComponent(scope);
        const body = await getJson('/api/history' + query);
        state.history.set(k.id, body.points);
      }));
    }
    buildChart();
  }

  /* ------------------------------------------------------------ stream */

  function applyKpi(update) {
    const known = state.kpis.some((k) => k.id === update.kpi);
    if (!known) return;
    const newScope = !state.kinds.has(update.scope);
    keepFigure(update.kpi, update);
    if (newScope) fillScopes();
    if (update.scope === el('scope').value) renderScorecard();
    if (update.scope === el('amplification-scope').value &&
        customerKpis().some((k) => k.id === update.kpi)) {
      if (!state.history.has(update.kpi)) state.history.set(update.kpi, []);
      addPoint(state.history.get(update.kpi), update.computed_at,
               update.suppressed ? null : Number(update.value));
      refreshChart();
    }
    document.body.dataset.lastUpdate = String(update.computed_at);
  }

  function applyEscalation(event) {
    const list = el('escalation-list');
    const item = document.createElement('li');
    item.textContent = '[' + event.status + (event.severity ? ', ' + event.severity : '') + '] ' + event.summary;
    list.prepend(item);
    while (list.children.length > 50) list.lastChild.remove();
  }

  // Applies one Server-Sent Events block (the lines between two blank lines).
  function applyBlock(block) {
    let name = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') name = value;
      else if (field === 'data') data.push(value);
      else if (field === 'retry' && /^\d+$/.test(value)) state.retryMs = Number(value);
    }
    if (data.length === 0) return;
    const payload = JSON.parse(data.join('\n'));
    if (name === 'kpi') applyKpi(payload);
    else if (name === 'escalation') applyEscalation(payload);
  }

  async function readStream(controller) {
    const response = await fetch('/api/stream', {
      headers: headers(), cache: 'no-store', signal: controller.signal,
    });
    if (!response.ok) throw new HttpError(response.status);
    setStatus('live');
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, '\n');
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        applyBlock(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
      }
    }
  }

  function scheduleReconnect() {
    setStatus('reconnecting');
    clearTimeout(state.retryTimer);
    state.retryTimer = setTimeout(connect, state.retryMs);
  }

  function disconnect() {
    clearTimeout(state.retryTimer);
    if (state.stream) state.stream.abort();
    state.stream = null;
  }

  // Loads the snapshot and the history, then follows the stream until it ends.
  async function connect() {
    disconnect();
    const controller = new AbortController();
    state.stream = controller;
    setStatus('connecting');
    try {
      loadSnapshot(await getJson('/api/kpis'));
      await loadHistory();
      await readStream(controller);
      if (state.stream === controller) scheduleReconnect();
    } catch (error) {
      if (state.stream !== controller) return;   // replaced by a newer connection
      if (unauthorized(error)) {
        setStatus('unauthorized');
        return;
      }
      scheduleReconnect();
    }
  }

  /* ------------------------------------------------------------ start */

  function start() {
    state.token = sessionStorage.getItem(TOKEN_KEY) || '';
    el('token').value = state.token;
    el('access').addEventListener('submit', (event) => {
      event.preventDefault();
      state.token = el('token').value.trim();
      sessionStorage.setItem(TOKEN_KEY, state.token);
      connect();
    });
    el('scope').addEventListener('change', renderScorecard);
    el('amplification-scope').addEventListener('change', () => {
      loadHistory().catch(() => setStatus('reconnecting'));
    });
    window.addEventListener('resize', () => {
      if (state.chart) state.chart.setSize({ width: chartWidth(), height: 240 });
    });
    connect();
  }

  start();
})();
