'use strict';
// The Node side of actionruns' Activepieces bridge.
//
// The main thread reads requests, one JSON object a line on stdin, and writes one answer a line
// on stdout: {id, result} or {id, error: {message, status?, retry_after?, network?, kind?}},
// with what the piece printed during the call: printed: [{level, text}].
// Piece code never runs here: each piece version gets a worker thread of its own (this same
// file, started as a worker), so that a call that times out or is cancelled is stopped by
// terminating that thread, and least recently used threads are evicted past a limit.
//
// Requests: {id, op: "describe"|"run"|"options"|"props"|"validate", piece: {dir, package},
//            action?, prop?, auth?, props?}
//           {id, op: "cancel", target}: terminate the thread running call `target`.
//
// The outbound guard: every TCP connection a piece opens (http, https, fetch/undici, database
// drivers: all go through net.Socket#connect) first asks Python where to connect, as
// {op: "connect", ref, host, port} on stdout; Python checks the name with the same guard as
// its connectors and answers {op: "connected", ref, address} or {…, error}. The socket then
// dials that checked address, never the name again (no DNS rebinding). TLS always verifies
// the server's certificate against the name, whatever the piece asks.

const { Worker, isMainThread, parentPort, workerData } = require('node:worker_threads');

if (isMainThread) {
  main();
} else {
  worker();
}

function main() {
  const readline = require('node:readline');
  const limit = 20; // threads (pieces loaded) at most; the least recently used idle one goes
  const threads = new Map(); // piece key -> {worker, pending: Map(id -> true), used}

  let closed = false;
  const busy = () => [...threads.values()].some((t) => t.pending.size > 0);
  const send = (message) => {
    process.stdout.write(JSON.stringify(message) + '\n');
    if (closed && !busy()) process.exit(0);
  };

  function stop(key, error) {
    const thread = threads.get(key);
    if (!thread) return;
    threads.delete(key);
    thread.worker.terminate();
    for (const id of thread.pending.keys()) send({ id, error });
  }

  function evict() {
    // Only idle threads are evicted: a busy one holds calls that are still running.
    const idle = [...threads.entries()].filter(([, t]) => t.pending.size === 0);
    idle.sort((a, b) => a[1].used - b[1].used);
    while (threads.size >= limit && idle.length) {
      const [key, t] = idle.shift();
      threads.delete(key);
      t.worker.terminate();
    }
  }

  function thread(piece) {
    const key = `${piece.dir}\n${piece.package}`;
    let found = threads.get(key);
    if (!found) {
      evict();
      const worker = new Worker(__filename, { workerData: piece });
      found = { worker, pending: new Map(), used: 0 };
      worker.on('message', (answer) => {
        if (answer.op === 'connect') {
          // Asked on the thread's behalf: the answer finds the thread by its id.
          return send({ ...answer, ref: `${worker.threadId}#${answer.ref}` });
        }
        found.pending.delete(answer.id);
        send(answer);
      });
      const lost = (why) => {
        if (threads.get(key) === found) stop(key, { message: why, kind: 'lost' });
      };
      worker.on('error', (err) => lost(`the piece's thread failed: ${err && err.message}`));
      worker.on('exit', (code) => lost(`the piece's thread stopped (${code})`));
      threads.set(key, found);
    }
    found.used = Date.now();
    return found;
  }

  const lines = readline.createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    let request;
    try {
      request = JSON.parse(line);
    } catch (err) {
      return; // not ours to answer: the Python side writes only JSON lines
    }
    if (request.op === 'connected') {
      const [key, ref] = request.ref.split('#');
      for (const t of threads.values()) {
        if (t.worker.threadId === Number(key)) t.worker.postMessage({ ...request, ref });
      }
      return;
    }
    if (request.op === 'cancel') {
      for (const [key, t] of threads) {
        if (t.pending.has(request.target)) {
          stop(key, { message: 'cancelled: the piece was stopped', kind: 'cancelled' });
        }
      }
      return;
    }
    const t = thread(request.piece);
    t.pending.set(request.id, true);
    t.worker.postMessage(request);
  });
  // Python closed our input: it is gone or done with us; what is running still answers.
  lines.on('close', () => {
    closed = true;
    if (!busy()) process.exit(0);
  });
}

function worker() {
  const path = require('node:path');
  const { createRequire } = require('node:module');
  const { AsyncLocalStorage } = require('node:async_hooks');
  // What a piece prints belongs to the call it prints in (calls run concurrently on one
  // thread): it goes back with that call's answer, as `printed`, for Python to redact and
  // log; never onto our protocol on stdout. What is printed outside a call (loading) is
  // nobody's and dropped.
  const util = require('node:util');
  const calls = new AsyncLocalStorage();
  const PRINTED_LIMIT = 64 * 1024; // characters kept per call; whole lines, so that a secret
  // is never cut in two before Python redacts it
  const printer = (level) => (...args) => {
    const call = calls.getStore();
    if (!call) return;
    const text = util.format(...args).replace(/\n$/, '');
    if (call.size + text.length > PRINTED_LIMIT) {
      call.left += 1;
      return;
    }
    call.size += text.length;
    call.printed.push({ level, text });
  };
  const LEVELS = { log: 'info', info: 'info', dir: 'info', debug: 'debug', trace: 'debug', warn: 'warning', error: 'error' };
  for (const [method, level] of Object.entries(LEVELS)) console[method] = printer(level);
  const written = (level) => {
    const print = printer(level);
    return (chunk, encoding, callback) => {
      print('%s', Buffer.isBuffer(chunk) ? chunk.toString() : String(chunk));
      const done = typeof encoding === 'function' ? encoding : callback;
      if (typeof done === 'function') done();
      return true;
    };
  };
  process.stdout.write = written('info');
  process.stderr.write = written('error');
  const printedOf = (call) =>
    call.left
      ? [...call.printed, { level: 'warning', text: `[${call.left} more lines left out: the piece printed more than ${PRINTED_LIMIT} characters]` }]
      : call.printed;
  guardConnections();
  const load = createRequire(path.join(workerData.dir, 'package.json'));
  const loaded = load(workerData.package);
  // A piece module exports its piece: the object that holds the actions.
  const piece = Object.values(loaded).find(
    (value) => value && typeof value === 'object' && (value._actions || value.actions)
  );
  if (!piece) throw new Error(`${workerData.package} exports no piece`);
  const actions = () =>
    typeof piece.actions === 'function' ? piece.actions() : piece._actions || piece.actions;

  parentPort.on('message', async (request) => {
    if (request.op === 'connected') return connected(request);
    const call = { printed: [], size: 0, left: 0 };
    try {
      const result = await calls.run(call, () => handle(request));
      parentPort.postMessage({ id: request.id, result: plain(result), printed: printedOf(call) });
    } catch (err) {
      parentPort.postMessage({ id: request.id, error: failure(err), printed: printedOf(call) });
    }
  });

  async function handle(request) {
    if (request.op === 'describe') return describe();
    const action = actions()[request.action];
    if (request.op !== 'validate' && !action) throw new Error(`no action ${request.action}`);
    const auth = request.auth;
    const values = revive(request.props || {});
    if (request.op === 'run') return action.run(context(auth, values));
    if (request.op === 'options' || request.op === 'props') {
      const prop = action.props[request.prop];
      const fn = request.op === 'options' ? prop.options : prop.props;
      return fn({ ...values, auth }, context(auth, values));
    }
    if (request.op === 'validate') {
      const validate = chosenAuth(request.auth_index).validate;
      return validate ? validate({ auth: bare(auth) }) : { valid: true };
    }
    throw new Error(`unknown request ${request.op}`);
  }

  // What Activepieces' engine gives an auth's validate, typed values or not: a secret text's
  // string, a custom auth's props, basic auth's pair, OAuth2's whole value.
  function bare(auth) {
    if (auth && typeof auth === 'object') {
      if (auth.type === 'SECRET_TEXT' && 'secret_text' in auth) return auth.secret_text;
      if (auth.type === 'CUSTOM_AUTH' && 'props' in auth) return auth.props;
      if (auth.type === 'BASIC_AUTH') return { username: auth.username, password: auth.password };
    }
    return auth;
  }

  function chosenAuth(index) {
    const auth = piece.auth;
    return (Array.isArray(auth) ? auth[index || 0] : auth) || {};
  }

  // What a piece's code reads of its context: auth, values, a store kept for the call,
  // files written as data URLs (our results are JSON), the run's identity.
  function context(auth, propsValue) {
    const kept = new Map();
    return {
      auth,
      propsValue,
      store: {
        put: async (key, value) => (kept.set(key, value), value),
        get: async (key) => (kept.has(key) ? kept.get(key) : null),
        delete: async (key) => void kept.delete(key),
      },
      files: {
        write: async ({ fileName, data }) =>
          `data:application/octet-stream;name=${encodeURIComponent(fileName)};base64,` +
          Buffer.from(data).toString('base64'),
      },
      server: { apiUrl: '', publicUrl: '', token: '' },
      project: { id: 'actionruns', externalId: () => undefined },
      run: { id: 'actionruns', stop: () => undefined, pause: () => undefined },
      connections: { get: async () => null },
      tags: { add: async () => undefined },
      executionType: 'BEGIN',
      generateResumeUrl: () => {
        throw new Error('pausing actions are not supported');
      },
    };
  }

  // The oldest framework's pieces take their connection as a prop of each action, named
  // `authentication` by its convention (a bare API key, SendGrid's, says nothing else).
  const AUTH_TYPES = new Set(['OAUTH2', 'SECRET_TEXT', 'BASIC_AUTH', 'CUSTOM_AUTH']);

  function describeProp(prop, name) {
    const connection = prop.authUrl || prop.props || prop.username || name === 'authentication';
    if (AUTH_TYPES.has(prop.type) && connection) {
      return { ...describeAuth(prop), required: Boolean(prop.required) };
    }
    const options = prop.options && typeof prop.options === 'object' ? prop.options : null;
    return {
      type: prop.type,
      displayName: prop.displayName,
      description: prop.description || '',
      required: Boolean(prop.required),
      defaultValue: prop.defaultValue,
      refreshers: prop.refreshers || [],
      options: options ? options.options || [] : undefined,
      properties: prop.properties ? describeProps(prop.properties) : undefined,
    };
  }

  function describeProps(props) {
    return Object.fromEntries(Object.entries(props || {}).map(([k, v]) => [k, describeProp(v, k)]));
  }

  function describeAuth(auth) {
    return {
      type: auth.type,
      displayName: auth.displayName || '',
      description: auth.description || '',
      authUrl: auth.authUrl,
      tokenUrl: auth.tokenUrl,
      scope: auth.scope || [],
      pkce: auth.pkce,
      props: describeProps(auth.props),
      username: auth.username,
      password: auth.password,
      validates: typeof auth.validate === 'function',
    };
  }

  function describe() {
    const auths = piece.auth ? (Array.isArray(piece.auth) ? piece.auth : [piece.auth]) : [];
    return {
      displayName: piece.displayName,
      description: piece.description || '',
      logoUrl: piece.logoUrl || '',
      categories: piece.categories || [],
      // Typed auth values ({type, props}, {type, secret_text}...), as Activepieces' engine
      // gives them to a piece with several auths or whose framework declares a context
      // version (WordPress 0.7 reads auth.props); older pieces read the bare value.
      typedAuth: Array.isArray(piece.auth) || Boolean(piece.getContextInfo?.()?.version),
      auths: auths.map(describeAuth),
      actions: Object.entries(actions()).map(([name, action]) => ({
        name,
        displayName: action.displayName,
        description: action.description || '',
        requireAuth: action.requireAuth !== false,
        props: describeProps(action.props),
      })),
    };
  }
}

// Where a connection may go, asked of Python; callbacks by request number.
const asked = new Map();
let asking = 0;
// An address literal is given to the socket under this suffix, so that it too is looked up,
// which is where the check happens (Node never looks up an address literal).
const LITERAL = '.address.actionruns.invalid';

function connected(answer) {
  const callback = asked.get(answer.ref);
  asked.delete(answer.ref);
  if (callback) callback(answer);
}

function guardConnections() {
  const net = require('node:net');
  const tls = require('node:tls');
  const dial = net.Socket.prototype.connect;

  function lookup(hostname, options, callback) {
    const host = hostname.endsWith(LITERAL) ? hostname.slice(0, -LITERAL.length) : hostname;
    const ref = String(++asking);
    asked.set(ref, (answer) => {
      if (answer.error) {
        const error = new Error(answer.error);
        error.code = 'EACTIONRUNSREFUSED';
        return callback(error);
      }
      const family = net.isIP(answer.address);
      if (options && options.all) return callback(null, [{ address: answer.address, family }]);
      return callback(null, answer.address, family);
    });
    // A lookup is not told the port: it travels in the options our connect passes along.
    parentPort.postMessage({ op: 'connect', ref, host, port: options.actionrunsPort || 0 });
  }

  function guardedConnect(...args) {
    // net.connect passes what it already normalized, as one array.
    const normalized = Array.isArray(args[0]) ? args[0] : net._normalizeArgs(args);
    const options = { ...normalized[0] };
    if (options.path) {
      throw new Error('connections to local sockets are not allowed');
    }
    const host = options.host || 'localhost';
    const port = Number(options.port);
    options.host = net.isIP(host) ? host + LITERAL : host;
    options.lookup = (name, lookupOptions, callback) =>
      lookup(name, { ...lookupOptions, actionrunsPort: port }, callback);
    return dial.call(this, options, normalized[1]);
  }

  const secure = tls.connect;
  function verifiedConnect(...args) {
    const normalized = net._normalizeArgs(args);
    const options = { ...normalized[0] };
    // Verification stays on: neither the options nor NODE_TLS_REJECT_UNAUTHORIZED turn it off.
    options.rejectUnauthorized = true;
    options.checkServerIdentity = tls.checkServerIdentity;
    if (!options.servername && options.host && !net.isIP(options.host)) {
      options.servername = options.host;
    }
    return secure.call(this, options, normalized[1]);
  }
  // Fixed in place: a piece cannot put the originals back.
  const fixed = (value) => ({ value, writable: false, configurable: false });
  Object.defineProperty(net.Socket.prototype, 'connect', fixed(guardedConnect));
  Object.defineProperty(tls, 'connect', fixed(verifiedConnect));
}

// A file arrives marked as one (base64); pieces read the framework's file object.
function revive(value) {
  if (Array.isArray(value)) return value.map(revive);
  if (value && typeof value === 'object') {
    if (value.__file__) {
      const data = Buffer.from(value.base64, 'base64');
      return { filename: value.filename, extension: value.extension, base64: value.base64, data };
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
  }
  return value;
}

// Answers are JSON: Buffers become base64, functions and cycles are left out.
function plain(value) {
  const seen = new WeakSet();
  const text = JSON.stringify(value === undefined ? null : value, (key, v) => {
    if (v && v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data).toString('base64');
    if (typeof v === 'function' || typeof v === 'bigint') return typeof v === 'bigint' ? String(v) : undefined;
    if (v && typeof v === 'object') {
      if (seen.has(v)) return undefined;
      seen.add(v);
    }
    return v;
  });
  return JSON.parse(text);
}

// A failure as our error classes need it: the upstream's status and body when an HTTP client
// threw (pieces-common's HttpError, axios), whether the network failed, the message.
function failure(err) {
  const response = (err && err.response) || {};
  let status = response.status;
  let body = response.body !== undefined ? response.body : response.data;
  let message = err && err.message ? String(err.message) : String(err);
  // pieces-common puts the response into the message as JSON.
  if (status === undefined) {
    try {
      const parsed = JSON.parse(message);
      if (parsed && parsed.response) {
        status = parsed.response.status;
        body = parsed.response.body;
      }
    } catch (ignored) {
      // a message that is plain text
    }
  }
  const headers = response.headers || {};
  const retry = headers['retry-after'];
  // Client libraries wrap what went wrong (undici: "fetch failed", the reason in `cause`).
  const causes = [];
  for (let cause = err && err.cause, depth = 0; cause && depth < 5; cause = cause.cause) {
    causes.push(cause);
    depth += 1;
  }
  const refused = [err, ...causes].find((cause) => cause && cause.code === 'EACTIONRUNSREFUSED');
  if (refused) return { message: refused.message, kind: 'refused' };
  for (const cause of causes) if (cause.message) message = `${message}: ${cause.message}`;
  const code = [err, ...causes].map((cause) => cause && cause.code).find(Boolean);
  const network = Boolean(code && /^(E[A-Z]+|UND_ERR)/.test(code)) && !status;
  if (body !== undefined) message = `${message}: ${JSON.stringify(plain(body)).slice(0, 500)}`;
  return { message, status, retry_after: retry, network, code };
}
