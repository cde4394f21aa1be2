import { pino, type Logger } from 'pino';

export type { Logger };

/** JSON logs; anything that could hold a credential is redacted, bodies are never logged. */
export function createLogger(level: string): Logger {
  return pino({
    name: 'client-app',
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'res.headers["set-cookie"]',
        '*.access_token',
        '*.refresh_token',
        '*.client_secret',
        '*.password',
      ],
      censor: '[redacted]',
    },
  });
}
