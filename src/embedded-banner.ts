/** What a newcomer needs after `npm start`: where things are and how to get a first token. */
export function printBanner(o: {
  publicUrl: string;
  /** The web client, when it runs. */
  webUrl?: string;
  seconds: number;
  admin: { username: string; generatedPassword?: string; passwordFile: string };
  keysFile?: string;
}) {
  const { publicUrl: url, admin } = o;
  const password = admin.generatedPassword ? `$(cat ${admin.passwordFile})` : '$PICARD_ADMIN_PASSWORD';
  const lines = [
    '',
    `Picard is ready in ${o.seconds.toFixed(1)} s`,
    ...(o.webUrl ? [`  web app        ${o.webUrl}   (sign up there, or sign in with Picard)`] : []),
    `  gateway        ${url}`,
    `  MCP endpoint   ${url}/mcp   (Streamable HTTP, bearer token)`,
    `  API docs       ${url}/docs  (OpenAPI: ${url}/openapi.json)`,
    `  health         ${url}/health`,
    `  admin user     ${admin.username}${admin.generatedPassword ? ` (generated password in ${admin.passwordFile})` : ''}`,
    ...(o.keysFile
      ? [`  memory key     ${o.keysFile}  (back it up: without it the memories cannot be read)`]
      : []),
    '',
    'Get a token (1: register a client as the admin; 2: get a user token with it):',
    `  curl -s -u ${admin.username}:${password} -H 'content-type: application/json' \\`,
    `    -d '{"client_name":"my-assistant","redirect_uris":["http://localhost:3000/callback"]}' ${url}/api/admin/clients/register`,
    `  curl -s -H 'content-type: application/json' \\`,
    `    -d '{"client_id":"<client_id>","client_secret":"<client_secret>","username":"alice","email":"alice@example.com","create_if_missing":true}' \\`,
    `    ${url}/api/user-tokens/user-token`,
    `Then point an MCP host at ${url}/mcp with the header "Authorization: Bearer <access_token>".`,
    'Stop with Ctrl+C.',
    '',
  ];
  process.stdout.write(lines.join('\n'));
}
