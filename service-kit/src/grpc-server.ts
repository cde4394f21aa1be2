import {
  Metadata,
  Server,
  ServerCredentials,
  ServerInterceptingCall,
  status,
  type ServerInterceptor,
  type sendUnaryData,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { HealthImplementation } from 'grpc-health-check';
import type { Logger } from './logger.js';
import { DomainError, publicError, toServiceError } from './errors.js';
import { verifyIncoming } from './identity.js';
import { grpcServerSeconds } from './metrics.js';
import type { InternalTokens } from './internal-token.js';

export interface GrpcService {
  /** Fully qualified service name, e.g. "picard.v1.MemoryService", reported by the health check. */
  name: string;
  definition: ServiceDefinition;
  implementation: UntypedServiceImplementation;
}

export interface GrpcServerHandle {
  port: number;
  address: string;
  health: HealthImplementation;
  /** Stops accepting calls, lets running ones finish (up to graceMs), then closes. */
  shutdown(graceMs?: number): Promise<void>;
}

export async function startGrpcServer(opts: {
  host: string;
  port: number;
  services: GrpcService[];
  logger: Logger;
  /** Verifies the internal token every call (but health checks) must carry. */
  tokens: InternalTokens;
}): Promise<GrpcServerHandle> {
  const server = new Server({
    'grpc.max_receive_message_length': 64 * 1024 * 1024,
    // Nothing reads channelz; its per-call bookkeeping cost ~8 % of a loopback call.
    'grpc.enable_channelz': 0,
    interceptors: [callInterceptor(opts.tokens, opts.logger)],
  });
  const health = new HealthImplementation({ '': 'SERVING' });
  for (const svc of opts.services) {
    server.addService(svc.definition, svc.implementation);
    health.setStatus(svc.name, 'SERVING');
  }
  health.addToServer(server);

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${opts.host}:${opts.port}`, ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  const address = `${opts.host}:${port}`;
  opts.logger.info({ address, services: opts.services.map((s) => s.name) }, 'gRPC server listening');

  return {
    port,
    address,
    health,
    async shutdown(graceMs = 5000) {
      health.setStatus('', 'NOT_SERVING');
      for (const svc of opts.services) health.setStatus(svc.name, 'NOT_SERVING');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

const HEALTH = 'grpc.health.v1.Health';

/**
 * Every call but a health check: before any handler runs, its internal token must verify with this
 * server's service as audience (the service named in the method path), otherwise it ends
 * UNAUTHENTICATED; and its duration and status code are counted per service and method. Health
 * checks are open (orchestrators probe them without a key; they reveal only SERVING) and uncounted.
 * One interceptor for both: each layer of grpc-js interception costs on every call.
 */
function callInterceptor(tokens: InternalTokens, logger: Logger): ServerInterceptor {
  return (method, call) => {
    const [, service = '', name = ''] = method.path.split('/');
    if (service === HEALTH) return new ServerInterceptingCall(call);
    const done = grpcServerSeconds.startTimer({ service, method: name });
    return new ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, pass) {
            verifyIncoming(metadata, tokens, service).then(
              () => pass(metadata),
              (err: unknown) => {
                logger.warn({ method: method.path, msg: (err as Error).message }, 'call unauthenticated');
                // Sent on the inner call, past this interceptor's own sendStatus: counted here.
                done({ code: status[status.UNAUTHENTICATED] });
                call.sendStatus({
                  code: status.UNAUTHENTICATED,
                  details: (err as Error).message,
                  metadata: toServiceError(err).metadata ?? new Metadata(),
                });
              },
            );
          },
        });
      },
      sendStatus(s, next) {
        done({ code: status[s.code] ?? String(s.code) });
        next(s);
      },
    });
  };
}

/** Logs the outcome and returns what the client may see (an internal failure: generic, with the logged id). */
function logOutcome(logger: Logger, method: string, started: number, err?: unknown) {
  const ms = Math.round((performance.now() - started) * 10) / 10;
  if (!err) return void logger.debug({ method, ms }, 'call ok');
  const shown = publicError(err);
  if (shown.log) {
    logger.error({ method, ms, err, errorId: shown.errorId }, 'call failed');
  } else if (err instanceof DomainError) {
    const { code, field, message } = err;
    logger.info({ method, ms, code, field, msg: message, errorId: err.errorId }, 'call refused');
  }
  return shown.error;
}

/** Adapts an async handler to grpc-js: thrown DomainErrors become statuses, others become INTERNAL. */
export function unary<Req, Res>(
  logger: Logger,
  method: string,
  handler: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res>,
) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    const started = performance.now();
    // Promise.resolve().then: a handler that throws synchronously still becomes a status.
    Promise.resolve()
      .then(() => handler(call.request, call))
      .then(
        (res) => {
          logOutcome(logger, method, started);
          callback(null, res);
        },
        (err: unknown) => callback(toServiceError(logOutcome(logger, method, started, err)), null),
      );
  };
}

/** Adapts an async generator to a server-streaming call. */
export function serverStream<Req, Res>(
  logger: Logger,
  method: string,
  handler: (request: Req, call: ServerWritableStream<Req, Res>) => AsyncIterable<Res>,
) {
  const stream = async (call: ServerWritableStream<Req, Res>) => {
    const started = performance.now();
    try {
      for await (const message of handler(call.request, call)) {
        if (call.cancelled) break;
        call.write(message);
      }
      logOutcome(logger, method, started);
      call.end();
    } catch (err) {
      const shown = logOutcome(logger, method, started, err);
      // emit('error') sends the status to the client; destroy() would drop it and leave the client waiting.
      call.emit('error', Object.assign(new Error(shown?.message), toServiceError(shown)));
    }
  };
  // grpc-js drops what a handler returns: were the error path above to throw, the rejection would
  // go unhandled and end the process.
  return (call: ServerWritableStream<Req, Res>): void => {
    stream(call).catch((err: unknown) => logger.error({ err, method }, 'stream handler failed'));
  };
}
