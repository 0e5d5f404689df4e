// Per hidden layer, a histogram of its activations and one of the training loss's gradient with
// respect to that layer's weights, each on a small canvas.

function drawBars(canvas, histogram, color) {
  const ctx = canvas.getContext('2d');
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#f4f4f4';
  ctx.fillRect(0, 0, width, height);
  const counts = histogram && histogram.counts ? histogram.counts : [];
  const top = Math.max(1, ...counts);
  const bar = width / Math.max(1, counts.length);
  ctx.fillStyle = color;
  counts.forEach((count, i) => {
    const h = (count / top) * (height - 2);
    ctx.fillRect(i * bar + 0.5, height - h, Math.max(1, bar - 1), h);
  });
}

function range(histogram) {
  const edges = histogram && histogram.edges ? histogram.edges : [];
  if (edges.length < 2) return '';
  const format = (v) => (Math.abs(v) >= 1e-2 || v === 0 ? v.toFixed(2) : v.toExponential(0));
  return `${format(edges[0])} … ${format(edges[edges.length - 1])}`;
}

function cell(testid, title) {
  const box = document.createElement('div');
  box.className = 'histogram';
  const label = document.createElement('div');
  label.className = 'histogram-title';
  label.textContent = title;
  const canvas = document.createElement('canvas');
  canvas.width = 120;
  canvas.height = 36;
  canvas.dataset.testid = testid;
  const span = document.createElement('div');
  span.className = 'histogram-range';
  box.append(label, canvas, span);
  return { box, canvas, span };
}

export class HistogramsView {
  constructor(container) {
    this.container = container;
    this.rows = [];
    this.key = '';
  }

  render(histograms) {
    const list = histograms || [];
    const key = list.map((h) => h.layer).join(',');
    if (key !== this.key) {
      this.key = key;
      this.rows = list.map((h) => {
        const activations = cell(`histogram-activations-${h.layer}`, `layer ${h.layer} activations`);
        const gradients = cell(`histogram-gradients-${h.layer}`, `layer ${h.layer} weight gradients`);
        const row = document.createElement('div');
        row.className = 'histogram-row';
        row.append(activations.box, gradients.box);
        return { row, activations, gradients };
      });
      if (this.rows.length) this.container.replaceChildren(...this.rows.map((r) => r.row));
      else this.container.textContent = 'No hidden layers.';
    }
    list.forEach((h, i) => {
      const { activations, gradients } = this.rows[i];
      drawBars(activations.canvas, h.activations, '#0877bd');
      drawBars(gradients.canvas, h.gradients, '#f59322');
      activations.span.textContent = range(h.activations);
      gradients.span.textContent = range(h.gradients);
    });
  }
}
