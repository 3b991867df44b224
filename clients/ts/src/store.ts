/**
 * Where the resume token lives. The token is the only way back into a session (a seat in
 * a running game), so the application decides where it is kept: memory (the default; a
 * new process is a new session), `sessionStorage` (survives a page reload, one per tab),
 * or anything else with these three methods.
 */

/** Keeps the newest resume token. Each `Welcome` rotates it, and only the newest works. */
export interface TokenStore {
  load(): string | null;
  save(token: string): void;
  clear(): void;
}

/** A token kept in this object only. */
export function memoryTokenStore(): TokenStore {
  let token: string | null = null;
  return {
    load: () => token,
    save: (value) => {
      token = value;
    },
    clear: () => {
      token = null;
    },
  };
}

/** The subset of the Web Storage API used here (`sessionStorage`, `localStorage`). */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/**
 * A token kept in Web Storage under `key`. Use `sessionStorage` so that a reload resumes
 * and two tabs are two players (a duplicated tab copies it: the server then hands the
 * session to whichever tab resumes last, closing the other with 4002).
 */
export function webStorageTokenStore(storage: StorageLike, key = "ticksync.token"): TokenStore {
  return {
    load: () => storage.getItem(key),
    save: (value) => storage.setItem(key, value),
    clear: () => storage.removeItem(key),
  };
}
