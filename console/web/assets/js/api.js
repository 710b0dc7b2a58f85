// The console's JSON API client: every call sends the session cookie, and every
// call that changes something sends the CSRF token the page carries.

/** An error answer of the API, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, code, message, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

let unauthorized = null;

/** onUnauthorized sets what happens when a call answers 401 (the session ended). */
export function onUnauthorized(fn) {
  unauthorized = fn;
}

/** csrfToken is the session's CSRF token, from the page's meta tag. */
export function csrfToken() {
  const meta = document.querySelector('meta[name="csrf-token"]');
  return meta ? meta.content : '';
}

/**
 * api calls the JSON API and returns the decoded answer (null for 204). It throws
 * an ApiError with the server's message, which is written for people to read.
 */
export async function api(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { Accept: 'application/json' } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (method !== 'GET' && method !== 'HEAD') {
    init.headers['X-CSRF-Token'] = csrfToken();
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'ENETWORK', 'The server could not be reached. Check the connection and try again; nothing you typed was lost.');
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    if (res.status === 401 && unauthorized && path !== '/api/v1/login') unauthorized();
    throw new ApiError(res.status, err.code || 'E' + res.status,
      err.message || `The server answered ${res.status}.`, res.headers.get('Retry-After'));
  }
  return data;
}
