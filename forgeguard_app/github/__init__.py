"""GitHub access for the app: app JWTs, installation tokens, the REST/GraphQL client, the engine's Source."""
