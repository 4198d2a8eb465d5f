// Apollo Client with its persisted-query link, unmodified, as a dashboard would use it:
// runs one operation twice against a coursegraph server and prints, as JSON, what each run
// got and every HTTP request the client made (method, what it sent, status, answer).
//
// node tests/apollo_persisted_client.mjs '{"url": ..., "document": "path/to/Op.graphql",
//   "variables": {...}, "token": "optional", "useGET": false}'
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

const options = JSON.parse(process.argv[2]);
const requests = [];

async function recordingFetch(input, init = {}) {
  const url = new URL(typeof input === "string" ? input : input.url);
  const method = init.method ?? "GET";
  const sent =
    method === "GET"
      ? Object.fromEntries(
          [...url.searchParams].map(([key, value]) => [
            key,
            key === "variables" || key === "extensions" ? JSON.parse(value) : value,
          ]),
        )
      : JSON.parse(init.body);
  const response = await fetch(input, init);
  const text = await response.clone().text();
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = text;
  }
  requests.push({ method, sent, status: response.status, answer });
  return response;
}

const headers = options.token ? { authorization: `Bearer ${options.token}` } : {};
const link = new PersistedQueryLink({
  sha256: (text) => createHash("sha256").update(text).digest("hex"),
  useGETForHashedQueries: Boolean(options.useGET),
}).concat(new HttpLink({ uri: options.url, fetch: recordingFetch, headers }));
const client = new ApolloClient({ cache: new InMemoryCache(), link });
const query = gql(readFileSync(options.document, "utf8"));

const runs = [];
for (let run = 0; run < 2; run += 1) {
  try {
    const result = await client.query({
      query,
      variables: options.variables ?? {},
      fetchPolicy: "network-only",
    });
    runs.push({ data: result.data ?? null, error: result.error?.message ?? null });
  } catch (error) {
    runs.push({ data: null, error: error.message, errors: error.errors ?? null });
  }
}
console.log(JSON.stringify({ runs, requests }));
