// The small card that follows the pointer (or the keyboard focus) over a link or a bias square and
// says its value, as TensorFlow Playground's "Weight is 0.23". One card per network view; its text
// is refreshed on every snapshot while it is shown, so it follows training.

export class Tooltip {
  /** root: the positioned element the card lives in (its coordinates are relative to it). */
  constructor(root) {
    this.root = root;
    this.node = document.createElement('div');
    this.node.className = 'tooltip';
    this.node.dataset.testid = 'tooltip';
    this.node.setAttribute('role', 'tooltip');
    this.node.hidden = true;
    root.append(this.node);
    this.text = null; // () => string while shown
  }

  /** Show text() at (clientX, clientY), or beside `anchor` (an element) when no point is given. */
  show(text, { clientX, clientY, anchor } = {}) {
    this.text = text;
    const box = this.root.getBoundingClientRect();
    let x = clientX;
    let y = clientY;
    if (x === undefined && anchor) {
      const rect = anchor.getBoundingClientRect();
      x = rect.left + rect.width / 2;
      y = rect.top + rect.height / 2;
    }
    this.node.style.left = `${Math.max(0, x - box.left + 12)}px`;
    this.node.style.top = `${Math.max(0, y - box.top + 12)}px`;
    this.refresh();
    this.node.hidden = false;
  }

  hide() {
    this.text = null;
    this.node.hidden = true;
  }

  /** Re-read the value (a new snapshot arrived). */
  refresh() {
    if (this.text) this.node.textContent = this.text();
  }

  /**
   * Wire `target` so that hovering (and focusing, unless focus is false) it shows text().
   * Focus listeners make an SVG element focusable in Chromium, so a pointer-only target goes without.
   */
  attach(target, text, { focus = true } = {}) {
    target.addEventListener('mouseenter', (event) => this.show(text, event));
    target.addEventListener('mousemove', (event) => this.show(text, event));
    target.addEventListener('mouseleave', () => this.hide());
    if (!focus) return;
    target.addEventListener('focus', () => this.show(text, { anchor: target }));
    target.addEventListener('blur', () => this.hide());
  }
}
