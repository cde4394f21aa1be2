import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { parse } from 'yaml';

export type Env = Record<string, string>;

/** Base64 of 32 random bytes, as `openssl rand -base64 32` makes them. */
export const key32 = () => randomBytes(32).toString('base64');

/** What an operator supplies to a deployment (the files' header comments say so), as valid values. */
export function operatorSecrets(): Env {
  return {
    MEMORY_ENCRYPTION_KEYS: `k1:${key32()}`,
    PICARD_ADMIN_PASSWORD: 'a long operator secret',
    AUTH_KEY_ENCRYPTION_KEY: key32(),
    CLIENT_TOKEN_KEY: key32(),
    CLIENT_SESSION_SECRET: key32(),
    INTERNAL_TOKEN_KEY: key32(),
    PICARD_PUBLIC_URL: 'https://picard-gateway.example.com',
    CLIENT_PUBLIC_URL: 'https://picard-web.example.com',
  };
}

export interface ComposeService {
  command?: string[];
  environment?: Env;
  ports?: unknown[];
}

/** docker-compose.yml as docker-compose itself renders it with these variables (anchors, defaults and all). */
export function renderCompose(variables: Env): Record<string, ComposeService> {
  const out = execFileSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
    env: { PATH: process.env.PATH, ...variables },
    encoding: 'utf8',
  });
  return (parse(out) as { services: Record<string, ComposeService> }).services;
}
