// A real OpenID provider (oidc-provider) for the auth crate's tests.
//
// Listens on 127.0.0.1 at a free port and prints its issuer URL as the first line of stdout.
// Issues JWT access tokens through the client_credentials grant with a resource indicator
// (the `resource` parameter becomes the token's audience). Signing keys (RS256 and ES256) are
// generated at start, or taken from OIDC_TEST_KEYS (a private JWKS) so a second provider can
// sign with the same keys under another issuer.
//
// Clients come from OIDC_TEST_CLIENTS, a JSON array of
//   { "client_id": "...", "client_secret": "...", "alg": "RS256" | "ES256" | ...,
//     "claims": { ...extra claims copied into every access token... },
//     "scope": "space separated scopes the client may ask for" }
// A client with "redirect_uris" is a web application instead (the console): it signs people in
// through the authorization code flow (PKCE, client_secret_basic). Its "accounts" map a user
// name to the role entries of the `roles` claim of that person's ID token; the login page is
// oidc-provider's development form (any password), and consent is implied.
//
// Test-only endpoints on the same listener:
//   POST /__admin/rotate  new signing keys (new kids) put first; the old ones stay published
//   POST /__admin/withdraw  new signing keys replace the old ones, which are no longer published
//   GET  /__admin/keys    the private JWKS in use
//   GET  /__admin/stats   how many times the published JWKS was fetched
//
// The process exits when its stdin closes, so it never outlives the test that started it.

import { createServer } from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';

import Provider from 'oidc-provider';

const host = process.env.OIDC_TEST_HOST || '127.0.0.1';
const ttl = Number.parseInt(process.env.OIDC_TEST_TOKEN_TTL || '300', 10);

const defaultClients = [
  {
    client_id: 'operator-client',
    client_secret: 'operator-secret',
    alg: 'RS256',
    claims: { roles: ['operator', 'acme/web:approver'] },
  },
];

const clients = process.env.OIDC_TEST_CLIENTS
  ? JSON.parse(process.env.OIDC_TEST_CLIENTS)
  : defaultClients;
const byId = new Map(clients.map((c) => [c.client_id, c]));
const accounts = Object.assign({}, ...clients.map((c) => c.accounts || {}));

function newKeys() {
  const suffix = randomBytes(6).toString('hex');
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  return [
    { ...rsa, kid: `rsa-${suffix}`, alg: 'RS256', use: 'sig' },
    { ...ec, kid: `ec-${suffix}`, alg: 'ES256', use: 'sig' },
  ];
}

let keys = process.env.OIDC_TEST_KEYS ? JSON.parse(process.env.OIDC_TEST_KEYS).keys : newKeys();

function build(issuer) {
  const provider = new Provider(issuer, {
    clients: clients.map((c) => (c.redirect_uris
      ? {
          client_id: c.client_id,
          client_secret: c.client_secret,
          grant_types: ['authorization_code'],
          response_types: ['code'],
          redirect_uris: c.redirect_uris,
          token_endpoint_auth_method: 'client_secret_basic',
          id_token_signed_response_alg: c.alg || 'RS256',
        }
      : {
          client_id: c.client_id,
          client_secret: c.client_secret,
          grant_types: ['client_credentials'],
          response_types: [],
          redirect_uris: [],
          token_endpoint_auth_method: 'client_secret_post',
          ...(c.scope ? { scope: c.scope } : {}),
        })),
    findAccount: async (_ctx, id) => ({
      accountId: id,
      claims: async () => ({ sub: id, preferred_username: id, roles: accounts[id] || [] }),
    }),
    claims: { openid: ['sub'], profile: ['preferred_username', 'roles'] },
    conformIdTokenClaims: false,
    loadExistingGrant: async (ctx) => {
      const grantId = ctx.oidc.result?.consent?.grantId
        || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
      if (grantId) return ctx.oidc.provider.Grant.find(grantId);
      const grant = new ctx.oidc.provider.Grant({
        clientId: ctx.oidc.client.clientId,
        accountId: ctx.oidc.session.accountId,
      });
      grant.addOIDCScope('openid profile');
      grant.addOIDCClaims(['preferred_username', 'roles']);
      await grant.save();
      return grant;
    },
    jwks: { keys },
    scopes: ['openid', 'offline_access', 'viewer', 'operator', 'approver', 'admin', 'acme/web:operator', 'mcp'],
    features: {
      devInteractions: { enabled: accounts && Object.keys(accounts).length > 0 },
      clientCredentials: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, resourceIndicator, client) => ({
          scope: 'viewer operator approver admin acme/web:operator mcp',
          audience: resourceIndicator,
          accessTokenTTL: ttl,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: byId.get(client.clientId)?.alg || 'RS256' } },
        }),
      },
    },
    extraTokenClaims: (_ctx, token) => byId.get(token.clientId)?.claims,
  });
  provider.on('server_error', (_ctx, err) => process.stderr.write(`provider error: ${err.stack}\n`));
  return provider;
}

let handler = null;
let jwksFetches = 0;

const server = createServer(async (req, res) => {
  try {
    const rotate = req.url === '/__admin/rotate';
    if ((rotate || req.url === '/__admin/withdraw') && req.method === 'POST') {
      const fresh = newKeys();
      keys = rotate ? [...fresh, ...keys] : fresh;
      handler = build(issuer).callback();
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kids: fresh.map((k) => k.kid) }));
      return;
    }
    if (req.url === '/__admin/keys' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys }));
      return;
    }
    if (req.url === '/__admin/stats' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jwks_fetches: jwksFetches }));
      return;
    }
    if (req.url === '/jwks' && req.method === 'GET') {
      jwksFetches += 1;
    }
    handler(req, res);
  } catch (err) {
    process.stderr.write(`admin error: ${err.stack}\n`);
    res.writeHead(500);
    res.end();
  }
});

let issuer = '';
server.listen(0, host, () => {
  const { port } = server.address();
  issuer = `http://${host}:${port}`;
  handler = build(issuer).callback();
  process.stdout.write(`${issuer}\n`);
});

// The test reads the issuer line and may close stdout: a later write (oidc-provider logs some
// development notices there) must not kill the provider.
process.stdout.on('error', () => {});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
