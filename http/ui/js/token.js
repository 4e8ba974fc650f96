// The bearer token the user pasted: kept in this tab's sessionStorage,
// sent by api.js and sse.js as the Authorization header.

const KEY = 'continuum.token';

/** The token, or '' when none was given. */
export function getToken() {
  try {
    return sessionStorage.getItem(KEY) || '';
  } catch {
    return '';
  }
}

/** Keeps `token` for this tab. */
export function setToken(token) {
  sessionStorage.setItem(KEY, token.trim());
}

/** Forgets the token. */
export function forgetToken() {
  sessionStorage.removeItem(KEY);
}

/** The headers that carry the token, if any. */
export function authHeaders() {
  const token = getToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}
