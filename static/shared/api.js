// The staff pages' calls to the server's JSON API (console and coordinator page alike): a Bearer
// token kept in sessionStorage only, JSON in and out, every failure thrown as an ApiError.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.status = status; // 0 when the server could not be reached
    this.code = code;
  }
}

// One client per page: `tokenKey` is where its token lives in sessionStorage; `credentials` is
// fetch's (the coordinator page sends no cookie; the console also keeps the session cookie).
export function apiClient({ tokenKey, credentials = "omit" }) {
  const session = {
    get token() { return sessionStorage.getItem(tokenKey); },
    set token(value) {
      if (value) sessionStorage.setItem(tokenKey, value);
      else sessionStorage.removeItem(tokenKey);
    },
  };

  async function send(method, path, body) {
    const headers = { Accept: "application/json" };
    if (session.token) headers.Authorization = `Bearer ${session.token}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await fetch(path, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
        credentials, cache: "no-store",
      });
    } catch {
      throw new ApiError(0, "network", "Geen verbinding met de server.");
    }
  }

  // The response's JSON; an ApiError with the server's code and message when it is not a 2xx.
  async function call(method, path, body) {
    const response = await send(method, path, body);
    let data = null;
    try { data = await response.json(); } catch { data = null; }
    if (!response.ok) {
      const err = (data && data.error) || {};
      throw new ApiError(response.status, err.code || "http_" + response.status,
        err.message || "Er ging iets mis.");
    }
    return data;
  }

  // A file from the API (the export, the access request), saved through a temporary link.
  async function download(method, path, filename, body) {
    const response = await send(method, path, body);
    if (!response.ok) {
      let err = {};
      try { err = (await response.json()).error || {}; } catch { err = {}; }
      throw new ApiError(response.status, err.code || "http_" + response.status, err.message || "Downloaden lukte niet.");
    }
    saveBlob(await response.blob(), filename);
  }

  return { session, call, download };
}

export function saveBlob(blob, filename) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export const query = (params) => {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value) q.set(key, value);
  const text = q.toString();
  return text ? `?${text}` : "";
};
