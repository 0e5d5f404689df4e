// The GAN lab page: one session on the server, its snapshots drawn on a canvas (D heatmap, real and
// generated points, the generator's arrows) and a loss chart; Play streams snapshots over SSE.
import { valueColor, cssColor } from "./heatmap.js";

const BASE = "/api/explore/gan/sessions";
const COLLAPSE = { distribution: "ring8", loss: "non_saturating", lr_g: 0.01, lr_d: 0.001, packing: 1, d_steps: 1 };
const CURE = { distribution: "ring8", loss: "non_saturating", lr_g: 0.002, lr_d: 0.002, packing: 1, d_steps: 1 };
const $ = (id) => document.getElementById(id);

const state = { id: null, snap: null, real: [], playing: false, events: null, drawn: [], drawTimer: null };

async function call(method, path, body) {
  const response = await fetch(path, {
    method, headers: { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? {} : await response.json();
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function showError(error) { $("gan-error").textContent = error ? String(error.message || error) : ""; }

function readConfig() {
  return {
    distribution: $("gan-distribution").value, loss: $("gan-loss").value,
    lr_d: Number($("gan-lr-d").value), lr_g: Number($("gan-lr-g").value),
    d_steps: Number($("gan-d-steps").value), packing: Number($("gan-packing").value),
  };
}

function writeConfig(config) {
  $("gan-distribution").value = config.distribution;
  $("gan-loss").value = config.loss;
  $("gan-lr-d").value = config.lr_d;
  $("gan-lr-g").value = config.lr_g;
  $("gan-d-steps").value = config.d_steps;
  $("gan-packing").value = config.packing;
}

const VIEW = 3;
function toPixel(canvas, x, y) {
  return [(x + VIEW) / (2 * VIEW) * canvas.width, (VIEW - y) / (2 * VIEW) * canvas.height];
}
function fromPixel(canvas, event) {
  const rect = canvas.getBoundingClientRect();
  const px = (event.clientX - rect.left) * canvas.width / rect.width;
  const py = (event.clientY - rect.top) * canvas.height / rect.height;
  return [px / canvas.width * 2 * VIEW - VIEW, VIEW - py / canvas.height * 2 * VIEW];
}

function drawHeatmap(ctx, canvas, heat) {
  const n = heat.length;
  const cw = canvas.width / n, ch = canvas.height / n;
  for (let i = 0; i < n; i += 1) { // row i is y from -3 (bottom) to 3 (top)
    for (let j = 0; j < n; j += 1) {
      const v = heat[i][j] === null ? 0.5 : heat[i][j];
      ctx.fillStyle = cssColor(valueColor(2 * v - 1), 0.55);
      // whole-pixel cells that neither overlap nor leave gaps: translucent overlaps would show as lines
      const x0 = Math.round(j * cw), x1 = Math.round((j + 1) * cw);
      const y0 = Math.round(canvas.height - (i + 1) * ch), y1 = Math.round(canvas.height - i * ch);
      ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
    }
  }
}

function drawDots(ctx, canvas, points, colour, radius) {
  ctx.fillStyle = colour;
  for (const [x, y] of points) {
    if (x === null || y === null) continue;
    const [px, py] = toPixel(canvas, x, y);
    ctx.beginPath();
    ctx.arc(px, py, radius, 0, 2 * Math.PI);
    ctx.fill();
  }
}

function drawArrows(ctx, canvas, fake, arrows) {
  let scale = 0;
  for (const [dx, dy] of arrows) scale = Math.max(scale, Math.hypot(dx || 0, dy || 0));
  if (!(scale > 0)) return;
  ctx.strokeStyle = "rgba(90, 40, 120, 0.7)";
  ctx.lineWidth = 1;
  fake.forEach(([x, y], k) => {
    const [dx, dy] = arrows[k];
    if (x === null || dx === null) return;
    const length = 0.4 / scale; // the longest arrow is 0.4 units of the plane
    const [x0, y0] = toPixel(canvas, x, y);
    const [x1, y1] = toPixel(canvas, x + dx * length, y + dy * length);
    ctx.beginPath();
    ctx.moveTo(x0, y0);
    ctx.lineTo(x1, y1);
    ctx.stroke();
  });
}

function drawPlane() {
  const canvas = $("gan-canvas");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const snap = state.snap;
  const drawing = $("gan-distribution").value === "drawn";
  if (snap && $("gan-heatmap").checked) drawHeatmap(ctx, canvas, snap.heatmap);
  if (snap && snap.centres) drawDots(ctx, canvas, snap.centres, "rgba(0,0,0,0.25)", 6);
  drawDots(ctx, canvas, state.real, "#2e9e5b", 2.5);
  if (drawing) drawDots(ctx, canvas, state.drawn, "#0b6b35", 3.5);
  if (snap) {
    if ($("gan-arrows").checked) drawArrows(ctx, canvas, snap.fake, snap.arrows);
    drawDots(ctx, canvas, snap.fake, "#8e44ad", 2.5);
  }
}

function drawLosses(history) {
  const canvas = $("gan-loss-chart");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  const series = [["d_loss", "#c0392b"], ["g_loss", "#8e44ad"]];
  const values = series.flatMap(([key]) => (history[key] || []).filter((v) => v !== null));
  if (!values.length) return;
  const low = Math.min(...values), high = Math.max(...values);
  const span = high > low ? high - low : 1;
  for (const [key, colour] of series) {
    const data = history[key] || [];
    ctx.strokeStyle = colour;
    ctx.beginPath();
    data.forEach((v, k) => {
      if (v === null) return;
      const x = (k / Math.max(1, data.length - 1)) * canvas.width;
      const y = canvas.height - 4 - ((v - low) / span) * (canvas.height - 8);
      if (k === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
    });
    ctx.stroke();
    ctx.fillStyle = colour;
    ctx.fillText(key.replace("_", " "), key === "d_loss" ? 6 : 60, 12);
  }
}

function format(v) { return v === null || v === undefined ? "–" : v.toFixed(3); }

function render(snap) {
  state.snap = snap;
  if (snap.real) state.real = snap.real;
  if (typeof snap.playing === "boolean") setPlaying(snap.playing);
  $("gan-step-count").textContent = String(snap.step);
  $("gan-d-loss").textContent = format(snap.d_loss);
  $("gan-g-loss").textContent = format(snap.g_loss);
  $("gan-modes").textContent = snap.modes ? `${snap.modes.modes_covered} / ${snap.modes.modes}` : "–";
  drawPlane();
  drawLosses(snap.history || {});
}

function setPlaying(playing) {
  state.playing = playing;
  $("gan-play").textContent = playing ? "Pause" : "Play";
}

function listen() {
  if (state.events) state.events.close();
  state.events = new EventSource(`${BASE}/${state.id}/events`);
  state.events.onmessage = (event) => render(JSON.parse(event.data));
}

async function start(config) {
  showError(null);
  if (state.id) {
    render(await call("POST", `${BASE}/${state.id}/config`, { config }));
  } else {
    const snap = await call("POST", BASE, { config });
    state.id = snap.session;
    render(snap);
    listen();
  }
}

async function applyConfig() {
  const config = readConfig();
  const drawing = config.distribution === "drawn";
  $("gan-draw-hint").hidden = !drawing;
  $("gan-canvas").classList.toggle("drawing", drawing);
  if (drawing) {
    if (state.drawn.length < 2) { drawPlane(); return; } // wait for the drawing
    config.points = state.drawn;
  }
  try { await start(config); } catch (error) { showError(error); }
}

// One request at a time, in click order: a quick second click must not render an older answer last.
let queue = Promise.resolve();
function post(path, body) {
  queue = queue.then(async () => {
    try { render(await call("POST", `${BASE}/${state.id}/${path}`, body)); } catch (error) { showError(error); }
  });
  return queue;
}

function addDrawnPoint(event) {
  if ($("gan-distribution").value !== "drawn" || state.drawn.length >= 2000) return;
  const [x, y] = fromPixel($("gan-canvas"), event);
  if (Math.abs(x) > 3 || Math.abs(y) > 3) return;
  state.drawn.push([Number(x.toFixed(3)), Number(y.toFixed(3))]);
  drawPlane();
  clearTimeout(state.drawTimer); // send the drawing once the mouse rests
  state.drawTimer = setTimeout(() => {
    if (state.drawn.length >= 2 && state.id) post("draw", { points: state.drawn });
  }, 300);
}

function wire() {
  for (const id of ["gan-distribution", "gan-loss", "gan-lr-d", "gan-lr-g", "gan-d-steps", "gan-packing"]) {
    $(id).addEventListener("change", applyConfig);
  }
  $("gan-play").addEventListener("click", () => post(state.playing ? "pause" : "play"));
  $("gan-step").addEventListener("click", () => post("step", { steps: 10 }));
  $("gan-reset").addEventListener("click", () => post("reset"));
  $("gan-arrows").addEventListener("change", drawPlane);
  $("gan-heatmap").addEventListener("change", drawPlane);
  for (const [id, setup] of [["gan-demo-collapse", COLLAPSE], ["gan-demo-cure", CURE]]) {
    $(id).addEventListener("click", async () => {
      writeConfig(setup);
      await applyConfig();
    });
  }
  $("gan-draw-clear").addEventListener("click", () => { state.drawn = []; drawPlane(); });
  const canvas = $("gan-canvas");
  let down = false;
  canvas.addEventListener("mousedown", (event) => { down = true; addDrawnPoint(event); });
  canvas.addEventListener("mousemove", (event) => { if (down) addDrawnPoint(event); });
  window.addEventListener("mouseup", () => { down = false; });
  window.addEventListener("beforeunload", () => { if (state.events) state.events.close(); });
}

wire();
applyConfig();
