// A real OpenID Provider for the single sign-on tests: panva's oidc-provider (the certified
// Node.js implementation) with its development login and consent pages. Everything comes
// from the JSON file named on the command line (tests/oidc/provider.py writes it).
import { readFileSync } from 'node:fs';
import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2], 'utf8'));

const provider = new Provider(config.issuer, {
  clients: config.clients.map((client) => ({
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    ...client,
  })),
  jwks: { keys: config.keys },
  pkce: { required: () => true },
  ttl: {
    IdToken: config.idTokenTtl,
    AuthorizationCode: 60,
    AccessToken: 600,
    Grant: 600,
    Interaction: 600,
    Session: 600,
  },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['preferred_username', 'name'],
  },
  conformIdTokenClaims: false, // scope claims in the ID token: the relying party reads them there
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({
      sub: id,
      preferred_username: id,
      name: id,
      email: config.emails[id] ?? `${id}@campus.example`,
      email_verified: true,
    }),
  }),
  cookies: { keys: ['test-only-cookie-signing-key'] },
  features: { devInteractions: { enabled: true } },
});

const server = provider.listen(config.port, '127.0.0.1', () => {
  process.stdout.write('ready\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
