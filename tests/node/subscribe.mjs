// Subscribes with the graphql-ws npm client (what GraphiQL and Apollo's GraphQLWsLink
// use), unmodified, and prints one JSON line per happening: {"connected": true}, each
// result as the client hands it over, {"error": ...}. Exits after COUNT results.
//
//   node subscribe.mjs ws://host/graphql 'subscription { ... }' COUNT
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, query, count] = process.argv.slice(2);
const print = (value) => process.stdout.write(JSON.stringify(value) + "\n");

const client = createClient({
  url,
  webSocketImpl: WebSocket,
  retryAttempts: 0,
  on: { connected: () => print({ connected: true }) },
});

let results = 0;
client.subscribe(
  { query },
  {
    next: (result) => {
      print(result);
      results += 1;
      if (results >= Number(count)) {
        client.dispose().then(() => process.exit(0));
      }
    },
    error: (error) => {
      print({ error: String(error?.message ?? error?.reason ?? JSON.stringify(error)) });
      process.exit(1);
    },
    complete: () => process.exit(0),
  },
);
