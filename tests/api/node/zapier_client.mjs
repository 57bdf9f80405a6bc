// A client written as one is for Zapier's Workflow API, in Node with its own fetch: the
// guides' request shapes, trailing slashes, and fetch's strictest redirect setting (a
// redirect, such as a 307 to add or drop a slash, would fail it). Only the base URL says
// which service it talks to. Prints the finished run as JSON.
//
//   node zapier_client.mjs BASE_URL CLIENT_ID CLIENT_SECRET

const [baseUrl, clientId, clientSecret] = process.argv.slice(2);

async function call(path, init = {}) {
  const response = await fetch(`${baseUrl}${path}`, { redirect: "error", ...init });
  const body = await response.json();
  if (!response.ok) {
    throw new Error(`${init.method ?? "GET"} ${path}: ${response.status} ${JSON.stringify(body)}`);
  }
  return body;
}

const token = await call("/oauth/token/", {
  method: "POST",
  headers: { "Content-Type": "application/x-www-form-urlencoded" },
  body: new URLSearchParams({
    grant_type: "client_credentials",
    client_id: clientId,
    client_secret: clientSecret,
    scope: "zap zap:write action:run connection:read",
  }),
});
const headers = { Authorization: `Bearer ${token.access_token}`, "Content-Type": "application/json" };

const apps = await call(`/v2/apps/?client_id=${encodeURIComponent(clientId)}&query=test%20kit`);
const app = apps.data.find((candidate) => candidate.title === "Test kit");
const actions = await call(`/v2/actions/?app=${app.id}&action_type=WRITE`, { headers });
const action = actions.data.find((candidate) => candidate.key === "noop");
await call(`/v2/actions/${action.id}/inputs/`, {
  method: "POST",
  headers,
  body: JSON.stringify({ data: { authentication: null, inputs: null } }),
});

const created = await call("/v2/action-runs/", {
  method: "POST",
  headers,
  body: JSON.stringify({ action: action.id, authentication: null, input: { value: "from node" } }),
});
let run;
for (let attempt = 0; attempt < 100; attempt += 1) {
  run = (await call(`/v2/action-runs/${created.data.id}/`, { headers })).data;
  if (run.status === "success" || run.status === "error") break;
  await new Promise((resolve) => setTimeout(resolve, 100));
}
console.log(JSON.stringify(run));
