// The HTTP API of the playground server: one session per tab, JSON in and out.
// Every error answer is {"error": "<message>"}; it reaches the caller as an ApiError.

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

async function request(method, path, body, contentType) {
  const options = { method, headers: {} };
  if (body !== undefined) {
    if (typeof body === 'string') {
      options.headers['Content-Type'] = contentType || 'text/plain';
      options.body = body;
    } else {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
  }
  let response;
  try {
    response = await fetch(path, options);
  } catch (err) {
    throw new ApiError(0, `cannot reach the playground server (${err.message})`);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch (err) {
    data = null;
  }
  if (!response.ok) {
    const fallback = `${response.status} ${response.statusText}`;
    throw new ApiError(response.status, data && typeof data.error === 'string' ? data.error : fallback);
  }
  return data;
}

/** One server-side training session, owned by this tab. */
export class Session {
  constructor(id) {
    this.id = id;
    this.source = null;
  }

  /** POST /api/sessions; resolves to [Session, snapshot with points]. */
  static async create(config) {
    const snapshot = await request('POST', '/api/sessions', { config: config || {} });
    return [new Session(snapshot.session), snapshot];
  }

  url(suffix) {
    return `/api/sessions/${encodeURIComponent(this.id)}${suffix}`;
  }

  get() { return request('GET', this.url('')); }
  configure(partial) { return request('POST', this.url('/config'), { config: partial }); }
  action(name) { return request('POST', this.url(`/${name}`), {}); }
  addPoint(x, y, label) { return request('POST', this.url('/points'), { x, y, label }); }
  upload(csvText) { return request('POST', this.url('/upload'), csvText, 'text/csv'); }
  setWeight(layer, source, target, value) {
    return request('POST', this.url('/weight'), { layer, source, target, value });
  }
  diagnose() { return request('POST', this.url('/diagnose'), {}); }
  scriptUrl() { return this.url('/export/script'); }
  weightsUrl() { return this.url('/export/weights'); }

  /** Open the event stream; onSnapshot gets each parsed snapshot, onState 'open' or 'error'. */
  listen(onSnapshot, onState) {
    this.close();
    const source = new EventSource(this.url('/events'));
    source.onmessage = (event) => {
      let snapshot;
      try {
        snapshot = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      onSnapshot(snapshot);
    };
    source.onopen = () => onState('open');
    source.onerror = () => onState('error');
    this.source = source;
  }

  close() {
    if (this.source) this.source.close();
    this.source = null;
  }

  /** Delete the session when the tab goes away (keepalive lets it outlive the page). */
  release() {
    this.close();
    try {
      fetch(this.url(''), { method: 'DELETE', keepalive: true });
    } catch (err) {
      // The page is closing; the server's expiry cleans up what this misses.
    }
  }
}
