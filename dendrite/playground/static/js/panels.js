// Panels around the training view: the error banner, the status line, the diagnosis panel,
// the export links and the CSV upload.

const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

/** The global banner showing the server's {"error"} message. */
export class Banner {
  constructor() {
    this.node = byTestId('error');
    this.node.querySelector('.banner-close').addEventListener('click', () => this.clear());
  }

  show(message) {
    this.node.querySelector('.banner-text').textContent = message;
    this.node.hidden = false;
  }

  clear() {
    this.node.hidden = true;
    this.node.querySelector('.banner-text').textContent = '';
  }
}

/** The one-line status at the bottom: session, connection, training state. */
export class StatusLine {
  constructor() {
    this.node = byTestId('status');
    this.connection = 'connecting';
  }

  setConnection(state) {
    this.connection = state;
  }

  /** points: {train, test} of the snapshot's data version, or null while they load. */
  render(snapshot, points) {
    const parts = [`session ${String(snapshot.session || '').slice(0, 8)}`,
      snapshot.playing ? 'training' : 'paused',
      `epoch ${snapshot.epoch} (${snapshot.steps} steps)`,
      `status ${snapshot.status}`];
    if (points) parts.push(`${points.train.length} training + ${points.test.length} test points`);
    if (snapshot.metrics && Number.isFinite(snapshot.metrics.learning_rate)) {
      parts.push(`learning rate now ${Number(snapshot.metrics.learning_rate.toPrecision(3))}`);
    }
    if (this.connection !== 'open') parts.push(`live updates: ${this.connection}`);
    this.node.textContent = parts.join(' · ');
    this.node.dataset.status = snapshot.status;
  }

  message(text) {
    this.node.textContent = text;
  }
}

const SEVERITY_ORDER = { error: 0, warning: 1, info: 2 };

/**
 * Asks the doctor (POST /diagnose) on the button, and by itself once per run when the snapshot's
 * status turns "diverged" or "stalled".
 */
export class DiagnosisPanel {
  constructor(diagnose) {
    this.diagnose = diagnose;
    this.node = byTestId('diagnosis');
    this.body = this.node.querySelector('.diagnosis-body');
    this.button = byTestId('diagnose');
    this.askedThisRun = false;
    this.lastSteps = -1;
    this.busy = false;
    this.button.addEventListener('click', () => this.run('asked'));
  }

  /** Watch each snapshot: a drop in steps means a new run (reset), which may be diagnosed again. */
  observe(snapshot) {
    if (snapshot.steps < this.lastSteps) this.askedThisRun = false;
    this.lastSteps = snapshot.steps;
    this.node.dataset.status = snapshot.status;
    if ((snapshot.status === 'diverged' || snapshot.status === 'stalled') && !this.askedThisRun) {
      this.askedThisRun = true;
      this.run(snapshot.status, snapshot.epoch);
    }
  }

  async run(reason, epoch) {
    if (this.busy) return;
    this.busy = true;
    this.button.disabled = true;
    this.body.classList.remove('hint');
    this.body.textContent = reason === 'asked' ? 'Diagnosing…' : `Training ${reason}; diagnosing…`;
    try {
      this.show(await this.diagnose(), reason, epoch);
    } catch (err) {
      this.body.textContent = `Diagnosis failed: ${err.message}`;
    } finally {
      this.busy = false;
      this.button.disabled = false;
    }
  }

  show(result, reason, epoch) {
    const findings = [...(result.findings || [])].sort(
      (a, b) => (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3));
    const nodes = [];
    const lead = document.createElement('p');
    lead.className = 'diagnosis-lead';
    // The doctor examines the setup (a fresh start of it when the weights are no longer finite).
    const examined = result.examined ? ` The doctor examined ${result.examined}.` : '';
    lead.textContent = (reason === 'asked' ? `Asked at status ${result.status || 'unknown'}.`
      : `Training ${reason} at epoch ${epoch}.`) + examined;
    nodes.push(lead);
    if (findings.length === 0) {
      const none = document.createElement('p');
      none.textContent = 'No problems found.';
      nodes.push(none);
    }
    for (const finding of findings) {
      const item = document.createElement('div');
      item.className = `finding ${finding.severity || ''}`;
      item.dataset.testid = `finding-${finding.code}`;
      const title = document.createElement('div');
      title.className = 'finding-title';
      title.textContent = finding.title;
      const explanation = document.createElement('div');
      explanation.className = 'finding-explanation';
      explanation.textContent = finding.explanation;
      const fix = document.createElement('div');
      fix.className = 'finding-fix';
      fix.textContent = `Fix: ${finding.fix}`;
      item.append(title, explanation, fix);
      nodes.push(item);
    }
    const passed = result.passed || [];
    if (passed.length) {
      const ok = document.createElement('p');
      ok.className = 'hint';
      const names = passed.map((p) => (typeof p === 'string' ? p : p.title || p.code));
      ok.textContent = `Passed: ${names.join(', ')}`;
      nodes.push(ok);
    }
    this.body.replaceChildren(...nodes);
  }
}

/** The export button opens links to the script and the weights of this tab's session. */
export class ExportPanel {
  constructor() {
    this.button = byTestId('export');
    this.links = document.querySelector('.export-links');
    this.button.addEventListener('click', () => {
      this.links.hidden = !this.links.hidden;
      this.button.setAttribute('aria-expanded', String(!this.links.hidden));
    });
  }

  setSession(session) {
    byTestId('export-script').href = session.scriptUrl();
    byTestId('export-weights').href = session.weightsUrl();
  }
}

/** The CSV file input: reads the file and hands its text on; errors show under it. */
export class Upload {
  constructor(send) {
    this.input = byTestId('upload');
    this.error = byTestId('upload-error');
    this.input.addEventListener('change', async () => {
      const file = this.input.files && this.input.files[0];
      if (!file) return;
      this.error.textContent = '';
      try {
        await send(await file.text());
        this.error.textContent = '';
      } catch (err) {
        this.error.textContent = err.message;
      } finally {
        this.input.value = '';
      }
    });
  }
}
